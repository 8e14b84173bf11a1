// The line protocol of `modelreg worker`: a program run for a task asks for
// things by printing lines on its stdout, and any language can do it with
// print(). Grammar (ABNF-ish):
//
//   request  = "::" verb *( WS pair ) [WS]
//   verb     = "progress" / "metric" / "checkpoint" / "register"
//   pair     = key "=" value
//   key      = ALPHA *( ALPHA / DIGIT / "_" / "-" / "." )
//   value    = quoted / bare
//   quoted   = DQUOTE *( char / "\" ( DQUOTE / "\" / "n" / "t" / "r" ) ) DQUOTE
//   bare     = *( any character but space, tab and DQUOTE )   ; `key=` is ""
//   WS       = 1*( SP / HTAB )
//
// A line is a request only when it starts (at its first character) with
// `::` and one of the four verbs followed by a space, a tab or the end of
// the line; every other line, `::warning::x` included, is a log line. A
// request that does not parse (an unknown key, a key twice, a bad number)
// is logged as it is, with a line saying why, and changes nothing.
//
// Replies, written to the program's stdin for checkpoint and register only
// (in the order of the requests), use the same grammar:
//   ::ok checkpoint epoch=3 name=workspaces/w/tasks/t/checkpoints/3
//   ::error checkpoint epoch=3 message="no such directory: ./ckpt/3"
//   ::ok register version=workspaces/w/models/m/versions/1.0.0
import type { ProgressUpdate } from "@modelreg/sdk";

export type Request =
  | { verb: "progress"; progress: ProgressUpdate }
  | { verb: "metric"; name: string; value: number; step: number; epoch?: number }
  | { verb: "checkpoint"; dir: string; epoch: number; metrics: Record<string, number> }
  | { verb: "register"; epoch?: number; dir?: string; model?: string; version?: string; description?: string };

export type Verb = Request["verb"];

const REQUEST = /^::(progress|metric|checkpoint|register)(?=[ \t]|$)/;
const KEY = /^[A-Za-z][A-Za-z0-9_.-]*$/;
/** The contract's rule for metric names; checked here because the server refuses a whole report (its log lines too) for one bad name. */
const METRIC_NAME = /^[A-Za-z0-9_./-]{1,128}$/;

function metricName(key: string, name: string): string {
  if (!METRIC_NAME.test(name)) throw new Error(`${key}=${name} is not a metric name: 1-128 letters, digits, _, -, . and /`);
  return name;
}

/** Not a request (undefined), a request, or a request that does not parse (why). */
export type Parsed = { request: Request } | { error: string };

/** The request a stdout line holds; undefined for a log line. */
export function parseLine(text: string): Parsed | undefined {
  const line = text.endsWith("\r") ? text.slice(0, -1) : text;
  const m = REQUEST.exec(line);
  if (!m) return undefined;
  const verb = m[1] as Verb;
  try {
    return { request: interpret(verb, parsePairs(line.slice(m[0].length))) };
  } catch (e) {
    return { error: `::${verb}: ${(e as Error).message}` };
  }
}

/** `a=1 b="x y"` -> Map { a: "1", b: "x y" }. Throws naming what is wrong. */
export function parsePairs(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  let i = 0;
  const n = text.length;
  const isSpace = (c: string | undefined) => c === " " || c === "\t";
  for (;;) {
    const start = i;
    while (i < n && isSpace(text[i])) i++;
    if (i >= n) return pairs;
    if (i === start) throw new Error(`expected a space before "${text.slice(i, i + 20)}"`);
    const eq = text.indexOf("=", i);
    const key = eq < 0 ? "" : text.slice(i, eq);
    if (eq < 0 || !KEY.test(key)) throw new Error(`expected key=value at "${text.slice(i, i + 20)}" (a key is letters, digits, _, - and ., from a letter)`);
    if (pairs.has(key)) throw new Error(`${key} is given twice`);
    i = eq + 1;
    let value = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new Error(`the quoted value of ${key} has no closing "`);
        const c = text[i]!;
        if (c === '"') break;
        if (c === "\\") {
          const e = text[i + 1];
          const out = e === '"' ? '"' : e === "\\" ? "\\" : e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : undefined;
          if (out === undefined) throw new Error(`in the value of ${key}: \\${e ?? ""} is not an escape (use \\", \\\\, \\n, \\t or \\r)`);
          value += out;
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      i++;
      if (i < n && !isSpace(text[i])) throw new Error(`expected a space after the quoted value of ${key}`);
    } else {
      while (i < n && !isSpace(text[i])) {
        if (text[i] === '"') throw new Error(`the value of ${key} has a " inside: quote the whole value ("...") and escape it as \\"`);
        value += text[i];
        i++;
      }
    }
    pairs.set(key, value);
  }
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function numberOf(key: string, text: string): number {
  const v = Number(text);
  if (!DECIMAL.test(text) || !Number.isFinite(v)) throw new Error(`${key}=${text} is not a finite number`);
  return v;
}

function wholeOf(key: string, text: string): number {
  const v = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(v)) throw new Error(`${key}=${text} is not a whole number from 0`);
  return v;
}

/** Takes the keys a verb allows out of `pairs`; a key left over is unknown. */
function reader(verb: Verb, pairs: Map<string, string>, allowed: string[], prefixes: string[] = []) {
  for (const key of pairs.keys()) {
    if (!allowed.includes(key) && !prefixes.some((p) => key.startsWith(p) && key.length > p.length)) {
      throw new Error(`unknown key ${key} (${verb} takes ${[...allowed, ...prefixes.map((p) => `${p}<name>`)].join(", ")})`);
    }
  }
  return {
    text: (k: string) => pairs.get(k),
    required(k: string): string {
      const v = pairs.get(k);
      if (v === undefined || v === "") throw new Error(`${k}= is required`);
      return v;
    },
    whole: (k: string) => (pairs.has(k) ? wholeOf(k, pairs.get(k)!) : undefined),
    number: (k: string) => (pairs.has(k) ? numberOf(k, pairs.get(k)!) : undefined),
    prefixed(prefix: string): Record<string, number> {
      const out: Record<string, number> = {};
      for (const [k, v] of pairs) if (k.startsWith(prefix)) out[metricName(k, k.slice(prefix.length))] = numberOf(k, v);
      return out;
    },
  };
}

function interpret(verb: Verb, pairs: Map<string, string>): Request {
  switch (verb) {
    case "progress": {
      const r = reader(verb, pairs, ["epoch", "total_epochs", "step", "total_steps", "fraction", "message", "eta_seconds"]);
      const fraction = r.number("fraction");
      if (fraction !== undefined && (fraction < 0 || fraction > 1)) throw new Error(`fraction=${fraction} is out of range: 0 to 1`);
      const p: ProgressUpdate = {};
      const set = <K extends keyof ProgressUpdate>(k: K, v: ProgressUpdate[K] | undefined) => {
        if (v !== undefined) p[k] = v;
      };
      set("epoch", r.whole("epoch"));
      set("totalEpochs", r.whole("total_epochs"));
      set("step", r.whole("step"));
      set("totalSteps", r.whole("total_steps"));
      set("fraction", fraction);
      set("message", r.text("message"));
      set("etaSeconds", r.whole("eta_seconds"));
      return { verb, progress: p };
    }
    case "metric": {
      const r = reader(verb, pairs, ["name", "value", "step", "epoch"]);
      const name = metricName("name", r.required("name"));
      const value = numberOf("value", r.required("value"));
      const epoch = r.whole("epoch");
      const step = r.whole("step") ?? epoch;
      if (step === undefined) throw new Error("step= (or epoch=) is required: a point is recorded once per name and step");
      return { verb, name, value, step, ...(epoch !== undefined ? { epoch } : {}) };
    }
    case "checkpoint": {
      const r = reader(verb, pairs, ["dir", "epoch"], ["metric."]);
      return { verb, dir: r.required("dir"), epoch: wholeOf("epoch", r.required("epoch")), metrics: r.prefixed("metric.") };
    }
    case "register": {
      const r = reader(verb, pairs, ["epoch", "dir", "model", "version", "description"]);
      const epoch = r.whole("epoch");
      const dir = r.text("dir") || undefined;
      if ((epoch === undefined) === (dir === undefined)) throw new Error("give epoch= (a committed checkpoint) or dir= (files to upload), one of them");
      const out: Request = { verb, ...(epoch !== undefined ? { epoch } : {}), ...(dir !== undefined ? { dir } : {}) };
      for (const k of ["model", "version", "description"] as const) {
        const v = r.text(k);
        if (v) out[k] = v;
      }
      return out;
    }
  }
}

/** A value as the grammar reads it back: bare when it can be, else quoted and escaped. */
export function formatValue(value: string): string {
  if (value !== "" && !/[\s"\\]/.test(value)) return value;
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t").replace(/\r/g, "\\r")}"`;
}

/** `::ok checkpoint epoch=3 name=...`: a reply line, without the newline. */
export function formatReply(outcome: "ok" | "error", verb: Verb, fields: Record<string, string | number>): string {
  const pairs = Object.entries(fields).map(([k, v]) => `${k}=${formatValue(String(v))}`);
  return [`::${outcome}`, verb, ...pairs].join(" ");
}
