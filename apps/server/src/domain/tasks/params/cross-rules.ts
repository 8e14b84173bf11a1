// Rules that tie parameters together, which JSON Schema cannot say. Each
// applies to any template (a workspace's too) whose params carry the fields
// it reads with the types it expects; a field the schema already refused is
// not judged again.
import type { Json } from "./fill.js";
import { show } from "./paths.js";

export interface CrossViolation {
  /** The top-level key the violation is about. */
  key: string;
  description: string;
}

const isInt = (v: unknown): v is number => Number.isInteger(v);

/** lr_decay_epochs: strictly ascending, each below num_epochs (PaddleX's piecewise decay boundaries). */
function decayEpochs(p: Json): CrossViolation | undefined {
  const epochs = p.lr_decay_epochs;
  const total = p.num_epochs;
  if (!Array.isArray(epochs) || !epochs.every(isInt) || !isInt(total)) return undefined;
  const problems: string[] = [];
  epochs.forEach((e, i) => {
    const before = epochs[i - 1];
    if (i > 0 && isInt(before) && e <= before) problems.push(`${e} does not come after ${before}`);
    if (e >= total) problems.push(`${e} is not below num_epochs (${total})`);
  });
  if (problems.length === 0) return undefined;
  return {
    key: "lr_decay_epochs",
    description: `${show(epochs)}: ${problems.join("; ")}; expected strictly ascending epochs, each below num_epochs (${total}): lower them, or raise num_epochs`,
  };
}

/** image_shape where a template allows [] (keep the shape dynamic): then [width, height], never one side. */
function shapePair(p: Json): CrossViolation | undefined {
  const shape = p.image_shape;
  if (!Array.isArray(shape) || shape.length !== 1) return undefined;
  return { key: "image_shape", description: `${show(shape)} has 1 item; expected [width, height], or [] to keep the input size dynamic` };
}

/** Each rule with the keys it reads. */
const RULES: { reads: string[]; check: (p: Json) => CrossViolation | undefined }[] = [
  { reads: ["lr_decay_epochs", "num_epochs"], check: decayEpochs },
  { reads: ["image_shape"], check: shapePair },
];

/** The cross-field violations of filled params, skipping rules that read a key in `refused` (already named by the schema). */
export function crossViolations(params: Json, refused: (key: string) => boolean): CrossViolation[] {
  return RULES.flatMap((rule) => {
    if (rule.reads.some(refused)) return [];
    const found = rule.check(params);
    return found ? [found] : [];
  });
}
