// The AIP-160 filter parser: a hand-written tokenizer and a recursive-descent
// parser over the subset documented in ./index.ts. It knows nothing of fields
// or types; compile.ts checks names and converts values.
//
// Positions are 1-based and count code points, not UTF-16 units, so they
// match what a person counts on screen (an emoji is one character).
import { InvalidArgumentError } from "../errors.js";
import { printable } from "../validation.js";

export const FILTER_MAX_LENGTH = 2000;
/** Levels of parentheses. */
export const FILTER_MAX_DEPTH = 32;
/** Comparisons (`field op value`) in one filter. */
export const FILTER_MAX_COMPARISONS = 64;

export type Comparator = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":";

/** The right-hand side of a comparison, untyped until compiled against a field. */
export interface FilterValue {
  /** Quoted strings without quotes, escapes resolved; bare words and numbers as written. */
  text: string;
  /** True when written in quotes: `"*"` is a literal star, bare `*` means "any". */
  quoted: boolean;
  pos: number;
}

export interface Comparison {
  kind: "compare";
  /** The field path as written: `state`, `labels.team`. */
  field: string;
  op: Comparator;
  value: FilterValue;
  /** Position of the field. */
  pos: number;
  /** Position of the operator. */
  opPos: number;
}

export type FilterExpr =
  /** The empty filter: matches everything. */
  | { kind: "all" }
  /** Two or more operands. */
  | { kind: "and"; args: FilterExpr[] }
  /** Two or more operands. */
  | { kind: "or"; args: FilterExpr[] }
  | { kind: "not"; arg: FilterExpr }
  | Comparison;

/** The InvalidArgument every filter problem becomes: field `filter`, position first. */
export function filterError(pos: number, message: string): InvalidArgumentError {
  return InvalidArgumentError.field("filter", `at position ${pos}: ${message}`);
}

type TokenType = "word" | "string" | "op" | "(" | ")" | "-" | "AND" | "OR" | "NOT" | "end";

interface Token {
  type: TokenType;
  /** Word text, unescaped string content, or the operator. */
  text: string;
  /** The characters as typed, for error messages. */
  raw: string;
  pos: number;
}

const WHITESPACE = /^[ \t\n\r\f]$/;
// Everything else, bar these, may appear in a bare word: dots (field paths,
// numbers), '-' after the first character, '/', '*', unicode...
const NOT_IN_WORD = /^[ \t\n\r\f()"'=<>!:]$/;
const KEYWORDS = new Set(["AND", "OR", "NOT"]);
// Unquoted RFC 3339 timestamps contain ':', so in value position they are
// recognised before the ordinary word rule. compile.ts validates them fully.
const TIMESTAMP_AHEAD = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})/;
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[^.]+)*$/;

/** Parses filter text. The empty (or all-blank) filter is `{ kind: "all" }`. */
export function parseFilter(text: string): FilterExpr {
  // Each code point is at most two UTF-16 units, so the cheap test is exact
  // for long inputs and the spread only runs on plausible ones.
  if (text.length > FILTER_MAX_LENGTH * 2 || (text.length > FILTER_MAX_LENGTH && [...text].length > FILTER_MAX_LENGTH))
    throw InvalidArgumentError.field("filter", `is longer than ${FILTER_MAX_LENGTH} characters`);
  const chars = [...text];
  checkCharacters(chars);
  const tokens = tokenize(chars);
  return parseTokens(tokens);
}

function checkCharacters(chars: string[]): void {
  chars.forEach((c, i) => {
    const code = c.codePointAt(0)!;
    // NUL cannot be stored in PostgreSQL text, and no field holds other
    // control characters; a lone surrogate is not text at all.
    if ((code < 0x20 && !WHITESPACE.test(c)) || code === 0x7f)
      throw filterError(i + 1, `control character ${printable(c)} is not allowed`);
    if (code >= 0xd800 && code <= 0xdfff) throw filterError(i + 1, "invalid unicode (a lone surrogate) is not allowed");
  });
}

function tokenize(chars: string[]): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (type: TokenType, start: number, text?: string) => {
    const raw = chars.slice(start, i).join("");
    tokens.push({ type, text: text ?? raw, raw, pos: start + 1 });
  };
  while (i < chars.length) {
    const c = chars[i]!;
    const start = i;
    // A comparison operator was just read, so a value comes next.
    const valueNext = tokens.at(-1)?.type === "op";
    if (WHITESPACE.test(c)) {
      i++;
    } else if (c === "(" || c === ")") {
      i++;
      push(c, start);
    } else if (c === '"' || c === "'") {
      const str = readString(chars, i);
      i = str.end;
      push("string", start, str.text);
    } else if (c === "=" || c === ":") {
      i++;
      push("op", start);
    } else if (c === "<" || c === ">" || c === "!") {
      i += chars[i + 1] === "=" ? 2 : 1;
      if (c === "!" && i - start === 1) throw filterError(start + 1, `expected "!=", found "!"`);
      push("op", start);
    } else if (c === "-" && !(valueNext && /^[0-9.]$/.test(chars[i + 1] ?? ""))) {
      // Negation; in value position before a digit it is a number's sign.
      i++;
      push("-", start);
    } else {
      const stamp = valueNext ? TIMESTAMP_AHEAD.exec(chars.slice(i, i + 40).join("")) : null;
      if (stamp) i += stamp[0].length;
      else while (i < chars.length && !NOT_IN_WORD.test(chars[i]!)) i++;
      const word = chars.slice(start, i).join("");
      push(KEYWORDS.has(word) ? (word as TokenType) : "word", start);
    }
  }
  tokens.push({ type: "end", text: "", raw: "", pos: chars.length + 1 });
  return tokens;
}

/** Reads the quoted string opening at `open`; `end` is the index after its closing quote. */
function readString(chars: string[], open: number): { text: string; end: number } {
  const quote = chars[open]!;
  let out = "";
  let i = open + 1;
  for (;;) {
    const c = chars[i];
    if (c === undefined) throw filterError(open + 1, `expected a closing ${quote} for the string that starts here, found end of filter`);
    if (c === quote) break;
    if (c === "\\") {
      const e = chars[i + 1];
      if (e !== '"' && e !== "'" && e !== "\\")
        throw filterError(i + 1, `expected \\", \\' or \\\\ after a backslash, found ${e === undefined ? "end of filter" : JSON.stringify(`\\${e}`)}`);
      out += e;
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return { text: out, end: i + 1 };
}

/** How a token is named in "found ..." messages. */
function describe(t: Token): string {
  if (t.type === "end") return "end of filter";
  if (t.type === "string") return printable(t.raw, 40);
  return JSON.stringify(printable(t.raw, 40));
}

/** A hint for the commonest slip: lower-case and/or/not. */
function keywordHint(t: Token): string {
  const upper = t.raw.toUpperCase();
  return t.type === "word" && KEYWORDS.has(upper) ? ` (write ${upper} in upper case)` : "";
}

const COMPARATORS = "=, !=, <, <=, >, >= or :";

// Grammar (AIP-160 EBNF, minus sequences, functions and global restrictions):
//   expression  := factor { "AND" factor }
//   factor      := term { "OR" term }          -- OR binds tighter than AND
//   term        := [ "NOT" | "-" ] simple
//   simple      := restriction | "(" expression ")"
//   restriction := field comparator value
// Each rule takes `after`, the token before it, for "expected ... after X".
function parseTokens(tokens: Token[]): FilterExpr {
  let i = 0;
  let depth = 0;
  let comparisons = 0;
  const peek = (): Token => tokens[i]!;
  const next = (): Token => {
    const t = tokens[i]!;
    if (t.type !== "end") i++;
    return t;
  };

  const expression = (after?: Token): FilterExpr => {
    const args = [factor(after)];
    while (peek().type === "AND") args.push(factor(next()));
    return args.length === 1 ? args[0]! : { kind: "and", args };
  };

  const factor = (after?: Token): FilterExpr => {
    const args = [term(after)];
    while (peek().type === "OR") args.push(term(next()));
    return args.length === 1 ? args[0]! : { kind: "or", args };
  };

  // One negation per term, as in the EBNF: `NOT NOT a = 1` is refused.
  const term = (after?: Token): FilterExpr => {
    const t = peek();
    if (t.type !== "NOT" && t.type !== "-") return simple(after);
    next();
    return { kind: "not", arg: simple(t) };
  };

  const simple = (after?: Token): FilterExpr => {
    const t = next();
    if (t.type === "(") {
      if (++depth > FILTER_MAX_DEPTH) throw filterError(t.pos, `parentheses nest deeper than ${FILTER_MAX_DEPTH} levels`);
      const inner = expression(t);
      const close = next();
      if (close.type !== ")")
        throw filterError(close.pos, `expected AND, OR or ")" to close the "(" at position ${t.pos}, found ${describe(close)}${joinHint(close)}`);
      depth--;
      return inner;
    }
    const where = after ? ` after ${JSON.stringify(after.raw)}` : "";
    if (t.type !== "word") throw filterError(t.pos, `expected a field name or "("${where}, found ${describe(t)}`);
    if (!FIELD_PATH.test(t.text))
      throw filterError(t.pos, `expected a field name (letters, digits and "_", then "." and a key for a map such as labels.team), found ${describe(t)}`);
    return restriction(t);
  };

  const restriction = (field: Token): Comparison => {
    const op = next();
    if (op.type !== "op")
      throw filterError(op.pos, `expected a comparison operator (${COMPARATORS}) after ${JSON.stringify(field.raw)}, found ${describe(op)}${keywordHint(field)}`);
    const value = next();
    if (value.type !== "word" && value.type !== "string")
      throw filterError(value.pos, `expected a value after ${JSON.stringify(op.raw)}, found ${describe(value)}`);
    if (++comparisons > FILTER_MAX_COMPARISONS)
      throw filterError(field.pos, `has more than ${FILTER_MAX_COMPARISONS} comparisons; the limit is ${FILTER_MAX_COMPARISONS}`);
    return {
      kind: "compare",
      field: field.text,
      op: op.text as Comparator,
      value: { text: value.text, quoted: value.type === "string", pos: value.pos },
      pos: field.pos,
      opPos: op.pos,
    };
  };

  if (peek().type === "end") return { kind: "all" };
  const expr = expression();
  const t = peek();
  if (t.type !== "end") throw filterError(t.pos, `expected AND, OR or end of filter, found ${describe(t)}${joinHint(t)}`);
  return expr;
}

/** Explains a comparison that follows another without AND or OR. */
function joinHint(t: Token): string {
  const hint = keywordHint(t);
  if (hint) return hint;
  return t.type === "word" || t.type === "string" || t.type === "(" || t.type === "NOT" || t.type === "-"
    ? "; join comparisons with AND or OR, and quote values that contain spaces"
    : "";
}

/**
 * Canonical text of a parsed filter: every AND/OR group inside another is
 * parenthesised, strings are double-quoted. parseFilter(formatFilter(e))
 * gives `e` back (positions aside).
 */
export function formatFilter(expr: FilterExpr): string {
  switch (expr.kind) {
    case "all":
      return "";
    case "and":
    case "or":
      return expr.args.map((a) => (a.kind === "and" || a.kind === "or" ? `(${formatFilter(a)})` : formatFilter(a))).join(` ${expr.kind.toUpperCase()} `);
    case "not":
      return expr.arg.kind === "compare" ? `NOT ${formatFilter(expr.arg)}` : `NOT (${formatFilter(expr.arg)})`;
    case "compare": {
      const v = expr.value.quoted ? `"${expr.value.text.replace(/["\\]/g, (c) => `\\${c}`)}"` : expr.value.text;
      return `${expr.field} ${expr.op} ${v}`;
    }
  }
}
