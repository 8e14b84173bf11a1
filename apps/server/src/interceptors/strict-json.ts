// JSON requests read strictly: a field the contract does not have, or an
// enum name it does not know, is refused with InvalidArgument and one
// google.rpc.BadRequest entry per bad field, named by its path
// (`version.framework`, `version.descripton`), instead of being dropped
// as Connect-ES does by default (a typo then made a version without the
// field, and GetLatestExport with a misspelt format matched any format).
//
// Connect-ES reads a request before any interceptor runs, so the check
// sits where the request's JSON text is decoded: each method is registered
// with JSON options of its own, whose text decoder knows the method's
// request message. Enum numbers are the domain's to check (open enums).
import type { DescEnum, DescField, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "@modelreg/proto";
import { printable } from "../domain/shared/validation.js";
import { ERROR_DOMAIN } from "./errors.js";

interface Violation {
  field: string;
  description: string;
}

/** At most this many violations are reported; a body this wrong needs no more to be fixed. */
const MAX_VIOLATIONS = 20;

/** `routes`, with every method's JSON requests read strictly (see above). */
export function strictJsonRoutes(routes: (router: ConnectRouter) => void): (router: ConnectRouter) => void {
  return (router) => {
    const strict: ConnectRouter = {
      handlers: router.handlers,
      service(service, impl, options) {
        for (const method of (service as DescService).methods) {
          const fn = (impl as Record<string, unknown>)[method.localName];
          if (typeof fn !== "function") throw new Error(`${service.typeName} does not implement ${method.name}`);
          router.rpc(method, fn.bind(impl) as never, { ...options, jsonOptions: strictJsonOptions(method) });
        }
        return strict;
      },
      rpc(method, impl, options) {
        router.rpc(method, impl, { ...options, jsonOptions: strictJsonOptions(method) });
        return strict;
      },
    };
    routes(strict);
  };
}

/** JSON options for one method: unknown fields refused, and the text checked against its request message first. */
export function strictJsonOptions(method: DescMethod) {
  const utf8 = new TextDecoder();
  return {
    ignoreUnknownFields: false,
    textDecoder: {
      decode(bytes: Uint8Array): string {
        const text = utf8.decode(bytes);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          return text; // not JSON at all: protobuf-es says so
        }
        const violations: Violation[] = [];
        checkMessage(method.input, json, "", violations);
        if (violations.length > 0) throw invalidArgument(violations);
        return text;
      },
    },
  };
}

function invalidArgument(violations: Violation[]): ConnectError {
  return new ConnectError(violations.map((v) => `${v.field}: ${v.description}`).join("; "), Code.InvalidArgument, undefined, [
    { desc: ErrorInfoSchema, value: { reason: "INVALID_ARGUMENT", domain: ERROR_DOMAIN, metadata: {} } },
    { desc: BadRequestSchema, value: { fieldViolations: violations } },
  ]);
}

/** Well-known types have JSON forms of their own (a Struct takes any key), read by protobuf-es. */
const isWellKnown = (desc: DescMessage) => desc.typeName.startsWith("google.protobuf.");

function checkMessage(desc: DescMessage, json: unknown, path: string, out: Violation[]): void {
  if (isWellKnown(desc) || json === null || typeof json !== "object" || Array.isArray(json)) return;
  for (const [key, value] of Object.entries(json)) {
    if (out.length >= MAX_VIOLATIONS) return;
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (field) checkField(field, value, `${path}${path ? "." : ""}${field.name}`, out);
    else if (!key.startsWith("[")) out.push({ field: `${path}${path ? "." : ""}${key}`, description: unknownField(desc, key) });
  }
}

function checkField(field: DescField, value: unknown, at: string, out: Violation[]): void {
  if (value === null) return;
  if (field.fieldKind === "enum") checkEnum(field.enum, value, at, out);
  else if (field.fieldKind === "message") checkMessage(field.message, value, at, out);
  else if (field.fieldKind === "list" && Array.isArray(value) && field.listKind !== "scalar") {
    for (const [i, item] of value.entries()) {
      if (field.listKind === "enum") checkEnum(field.enum, item, `${at}[${i}]`, out);
      else checkMessage(field.message, item, `${at}[${i}]`, out);
    }
  } else if (field.fieldKind === "map" && typeof value === "object" && !Array.isArray(value) && field.mapKind !== "scalar") {
    for (const [k, v] of Object.entries(value as object)) {
      if (field.mapKind === "enum") checkEnum(field.enum, v, `${at}[${JSON.stringify(k)}]`, out);
      else checkMessage(field.message, v, `${at}[${JSON.stringify(k)}]`, out);
    }
  }
}

function checkEnum(desc: DescEnum, value: unknown, at: string, out: Violation[]): void {
  if (typeof value !== "string" || desc.values.some((v) => v.name === value)) return;
  const names = desc.values.filter((v) => v.number !== 0).map((v) => v.name);
  const near = closest(value, names);
  out.push({ field: at, description: `"${printable(value)}" is not a value of ${desc.name}${near ? ` (did you mean ${near}?)` : ""}: use ${names.join(", ")}` });
}

function unknownField(desc: DescMessage, key: string): string {
  const near = closest(
    key,
    desc.fields.flatMap((f) => [f.name, f.jsonName]),
  );
  return `is not a field of ${desc.typeName}${near ? ` (did you mean ${near}?)` : ""}`;
}

/** The candidate at most two edits away from `word` (ignoring case), if one is. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 100) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
