// Short builders for the JSON Schema properties of the built-in templates,
// so each parameter reads as one line: its description, its default, its
// bounds. Every builder sets `type`, `description` and `default`.

export type Schema = Record<string, unknown>;

export const DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema";

interface Bounds {
  min?: number;
  max?: number;
  /** Exclusive bounds (greater than / less than). */
  above?: number;
  below?: number;
}

function bounds(b: Bounds): Schema {
  return {
    ...(b.min !== undefined && { minimum: b.min }),
    ...(b.above !== undefined && { exclusiveMinimum: b.above }),
    ...(b.max !== undefined && { maximum: b.max }),
    ...(b.below !== undefined && { exclusiveMaximum: b.below }),
  };
}

export function int(description: string, def: number, b: Bounds): Schema {
  return { type: "integer", description, default: def, ...bounds(b) };
}

export function num(description: string, def: number, b: Bounds): Schema {
  return { type: "number", description, default: def, ...bounds(b) };
}

export function bool(description: string, def: boolean): Schema {
  return { type: "boolean", description, default: def };
}

/** A string from a closed set. */
export function choice(description: string, def: string, values: readonly string[]): Schema {
  return { type: "string", description, default: def, enum: [...values] };
}

/** Free text such as a path ("" = none). */
export function text(description: string, def: string, maxLength = 1024): Schema {
  return { type: "string", description, default: def, maxLength };
}

interface ListShape {
  minItems?: number;
  maxItems?: number;
  unique?: boolean;
}

function listShape(s: ListShape): Schema {
  return {
    ...(s.minItems !== undefined && { minItems: s.minItems }),
    ...(s.maxItems !== undefined && { maxItems: s.maxItems }),
    ...(s.unique && { uniqueItems: true }),
  };
}

export function intList(description: string, def: number[], item: Bounds & { multipleOf?: number }, shape: ListShape): Schema {
  const items = { type: "integer", ...bounds(item), ...(item.multipleOf !== undefined && { multipleOf: item.multipleOf }) };
  return { type: "array", description, default: def, items, ...listShape(shape) };
}

export function numList(description: string, def: number[], item: Bounds, shape: ListShape): Schema {
  return { type: "array", description, default: def, items: { type: "number", ...bounds(item) }, ...listShape(shape) };
}

export function boolList(description: string, def: boolean[], shape: ListShape): Schema {
  return { type: "array", description, default: def, items: { type: "boolean" }, ...listShape(shape) };
}

export function choiceList(description: string, def: string[], values: readonly string[], shape: ListShape): Schema {
  return { type: "array", description, default: def, items: { type: "string", enum: [...values] }, ...listShape(shape) };
}

/** `[width, height]` in pixels. */
export function imageShape(description: string, def: number[]): Schema {
  return intList(description, def, { min: 32, max: 8192 }, { minItems: 2, maxItems: 2 });
}

/**
 * A branch of `allOf`: when `key` is one of `values`, `then` applies. The
 * defaults inside `then` are the model-dependent defaults that
 * resolveParams fills before the template-wide ones.
 */
export function when(key: string, values: readonly string[], then: Record<string, Schema>): Schema {
  const condition = values.length === 1 ? { const: values[0] } : { enum: [...values] };
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords; this object is never awaited
  return { if: { properties: { [key]: condition }, required: [key] }, then: { properties: then } };
}

/** The params object of a template: closed (unknown keys refused), every property described. */
export function objectSchema(properties: Record<string, Schema>, conditions: Schema[] = []): Schema {
  return {
    $schema: DRAFT_2020_12,
    type: "object",
    additionalProperties: false,
    properties,
    ...(conditions.length > 0 && { allOf: conditions }),
  };
}
