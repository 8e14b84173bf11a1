import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors.js";
import { FILTER_MAX_COMPARISONS, FILTER_MAX_DEPTH, FILTER_MAX_LENGTH, formatFilter, parseFilter, type FilterExpr } from "./index.js";

/** Parses and prints canonically: every nested AND/OR group parenthesised. */
const canon = (text: string) => formatFilter(parseFilter(text));

/** The violation description parseFilter throws for `text`. */
function errorOf(text: string): string {
  try {
    parseFilter(text);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    const v = (e as InvalidArgumentError).violations;
    expect(v).toHaveLength(1);
    expect(v[0]!.field).toBe("filter");
    return v[0]!.description;
  }
  throw new Error(`parsed without error: ${text}`);
}

/** The AST without positions, for round-trip comparison. */
function shape(e: FilterExpr): unknown {
  switch (e.kind) {
    case "all":
      return e;
    case "and":
    case "or":
      return { kind: e.kind, args: e.args.map(shape) };
    case "not":
      return { kind: "not", arg: shape(e.arg) };
    case "compare":
      return [e.field, e.op, e.value.text, e.value.quoted];
  }
}

describe("parseFilter: comparisons", () => {
  it("treats an empty or blank filter as no filter", () => {
    expect(parseFilter("")).toEqual({ kind: "all" });
    expect(parseFilter(" \t\n ")).toEqual({ kind: "all" });
  });

  it("reads field, operator and value with 1-based positions", () => {
    expect(parseFilter('  labels.team = "risk"')).toEqual({
      kind: "compare",
      field: "labels.team",
      op: "=",
      value: { text: "risk", quoted: true, pos: 17 },
      pos: 3,
      opPos: 15,
    });
  });

  it("knows every operator, with or without spaces", () => {
    for (const op of ["=", "!=", "<", "<=", ">", ">=", ":"]) {
      expect(canon(`a${op}1`)).toBe(`a ${op} 1`);
      expect(canon(`a ${op} 1`)).toBe(`a ${op} 1`);
    }
    expect(canon("a\t=\n1\r\nAND\tb!=2")).toBe("a = 1 AND b != 2");
  });

  it("accepts dotted field paths; everything after the first segment may be a map key", () => {
    expect(canon("metrics.f1 > 0.85")).toBe("metrics.f1 > 0.85");
    expect(canon("labels.app.kubernetes.io/name = svc")).toBe("labels.app.kubernetes.io/name = svc");
    expect(canon("_private_1 = x")).toBe("_private_1 = x");
  });
});

describe("parseFilter: values", () => {
  const readValue = (text: string) => {
    const e = parseFilter(text);
    if (e.kind !== "compare") throw new Error("not a comparison");
    return { text: e.value.text, quoted: e.value.quoted };
  };

  it("unescapes quoted strings, in double or single quotes", () => {
    expect(readValue(String.raw`a = "say \"hi\" \\ bye"`)).toEqual({ text: String.raw`say "hi" \ bye`, quoted: true });
    expect(readValue(String.raw`a = 'it\'s "fine"'`)).toEqual({ text: `it's "fine"`, quoted: true });
    expect(readValue(`a = "O'Brien"`)).toEqual({ text: "O'Brien", quoted: true });
    expect(readValue(`a = ""`)).toEqual({ text: "", quoted: true });
    expect(readValue(`a = "AND (x) OR y:z"`)).toEqual({ text: "AND (x) OR y:z", quoted: true });
  });

  it("reads numbers, including negative and exponent forms, as bare text", () => {
    for (const n of ["42", "-1", "-1.5", "0.85", ".5", "-.5", "2.5e-3", "1E9"]) expect(readValue(`a = ${n}`)).toEqual({ text: n, quoted: false });
    expect(readValue("a=-3")).toEqual({ text: "-3", quoted: false });
  });

  it("reads true, false and bare words (unicode too) as bare text", () => {
    expect(readValue("a = true")).toEqual({ text: "true", quoted: false });
    expect(readValue("a = false")).toEqual({ text: "false", quoted: false });
    expect(readValue("framework = PYTORCH")).toEqual({ text: "PYTORCH", quoted: false });
    expect(readValue("name = resnet-50_v2.onnx")).toEqual({ text: "resnet-50_v2.onnx", quoted: false });
    expect(readValue("name = café🚀")).toEqual({ text: "café🚀", quoted: false });
  });

  it("reads RFC 3339 timestamps quoted or bare, despite their colons", () => {
    expect(readValue('t > "2024-01-31T12:00:00Z"')).toEqual({ text: "2024-01-31T12:00:00Z", quoted: true });
    expect(readValue("t > 2024-01-31T12:00:00.123456+01:00")).toEqual({ text: "2024-01-31T12:00:00.123456+01:00", quoted: false });
    expect(canon("t>=2024-01-31T12:00:00Z AND u<2024-02-01T00:00:00-05:30")).toBe("t >= 2024-01-31T12:00:00Z AND u < 2024-02-01T00:00:00-05:30");
  });

  it("keeps a bare * (any) apart from a quoted one", () => {
    expect(readValue("labels.team:*")).toEqual({ text: "*", quoted: false });
    expect(readValue('labels.team:"*"')).toEqual({ text: "*", quoted: true });
  });
});

describe("parseFilter: AND, OR, NOT and parentheses", () => {
  it("binds OR tighter than AND, as AIP-160 specifies", () => {
    // https://google.aip.dev/160: "a AND b OR c" evaluates "a AND (b OR c)".
    expect(canon("a = 1 AND b = 2 OR c = 3")).toBe("a = 1 AND (b = 2 OR c = 3)");
    expect(canon("a = 1 OR b = 2 AND c = 3")).toBe("(a = 1 OR b = 2) AND c = 3");
    expect(canon("a = 1 OR b = 2 AND c = 3 OR d = 4")).toBe("(a = 1 OR b = 2) AND (c = 3 OR d = 4)");
  });

  it("flattens chains into one n-ary node", () => {
    const e = parseFilter("a = 1 AND b = 2 AND c = 3");
    expect(e.kind === "and" && e.args.length).toBe(3);
    const o = parseFilter("a = 1 OR b = 2 OR c = 3");
    expect(o.kind === "or" && o.args.length).toBe(3);
  });

  it("lets parentheses override precedence", () => {
    expect(canon("(a = 1 AND b = 2) OR c = 3")).toBe("(a = 1 AND b = 2) OR c = 3");
    expect(canon("((a = 1))")).toBe("a = 1");
    expect(canon("(a = 1 OR b = 2) AND (c = 3 OR (d = 4 AND e = 5))")).toBe("(a = 1 OR b = 2) AND (c = 3 OR (d = 4 AND e = 5))");
  });

  it("applies NOT and - to one comparison or group", () => {
    expect(canon("NOT a = 1")).toBe("NOT a = 1");
    expect(canon("-a = 1")).toBe("NOT a = 1");
    expect(canon("NOT a = 1 OR b = 2")).toBe("NOT a = 1 OR b = 2");
    expect(parseFilter("NOT a = 1 OR b = 2")).toMatchObject({ kind: "or", args: [{ kind: "not" }, { kind: "compare" }] });
    expect(canon("NOT (a = 1 OR b = 2) AND c = 3")).toBe("NOT (a = 1 OR b = 2) AND c = 3");
    expect(canon("-(a = 1)")).toBe("NOT a = 1");
    expect(canon("a = 1 AND -labels:x")).toBe("a = 1 AND NOT labels : x");
  });

  it("tells a NOT prefix from a negative number by position", () => {
    expect(canon("-a = -1")).toBe("NOT a = -1");
  });

  it("prints filters that parse back to the same tree", () => {
    for (const text of [
      String.raw`a = "q\"uote\\" AND (b = 1 OR NOT c : *) OR d = 'x'`,
      "NOT (a = 1 AND b = 2) AND c >= 2024-01-31T12:00:00Z",
      'x != "" OR y = "AND"',
    ]) {
      const e = parseFilter(text);
      expect(shape(parseFilter(formatFilter(e)))).toEqual(shape(e));
    }
  });
});

describe("parseFilter: errors give the position and what was expected", () => {
  const cases: [string, string][] = [
    ['state = ACTIVE AND name =', 'at position 26: expected a value after "=", found end of filter'],
    ["state =", 'at position 8: expected a value after "=", found end of filter'],
    ["= 5", 'at position 1: expected a field name or "(", found "="'],
    ["state ACTIVE", 'at position 7: expected a comparison operator (=, !=, <, <=, >, >= or :) after "state", found "ACTIVE"'],
    ["state", 'at position 6: expected a comparison operator (=, !=, <, <=, >, >= or :) after "state", found end of filter'],
    ["(state = ACTIVE", 'at position 16: expected AND, OR or ")" to close the "(" at position 1, found end of filter'],
    ["state = ACTIVE)", 'at position 15: expected AND, OR or end of filter, found ")"'],
    ['name = "abc', 'at position 8: expected a closing " for the string that starts here, found end of filter'],
    ["name = 'abc\"", "at position 8: expected a closing ' for the string that starts here, found end of filter"],
    [String.raw`name = "a\qb"`, String.raw`at position 10: expected \", \' or \\ after a backslash, found "\\q"`],
    ["state = ACTIVE AND", 'at position 19: expected a field name or "(" after "AND", found end of filter'],
    ["AND state = x", 'at position 1: expected a field name or "(", found "AND"'],
    ["a = 1 OR OR b = 2", 'at position 10: expected a field name or "(" after "OR", found "OR"'],
    ["state = ACTIVE and name = x", 'at position 16: expected AND, OR or end of filter, found "and" (write AND in upper case)'],
    ["not a = 1", 'at position 5: expected a comparison operator (=, !=, <, <=, >, >= or :) after "not", found "a" (write NOT in upper case)'],
    ["()", 'at position 2: expected a field name or "(" after "(", found ")"'],
    ["a == b", 'at position 4: expected a value after "=", found "="'],
    ["a = (b)", 'at position 5: expected a value after "=", found "("'],
    ["a = AND", 'at position 5: expected a value after "=", found "AND"'],
    ["a = -b", 'at position 5: expected a value after "=", found "-"'],
    ["a = b c = d", 'at position 7: expected AND, OR or end of filter, found "c"; join comparisons with AND or OR, and quote values that contain spaces'],
    ["name = my model", 'at position 11: expected AND, OR or end of filter, found "model"; join comparisons with AND or OR, and quote values that contain spaces'],
    ["a.b. = 1", 'at position 1: expected a field name (letters, digits and "_", then "." and a key for a map such as labels.team), found "a.b."'],
    ["1abc = 1", 'at position 1: expected a field name (letters, digits and "_", then "." and a key for a map such as labels.team), found "1abc"'],
    ["NOT", 'at position 4: expected a field name or "(" after "NOT", found end of filter'],
    ["NOT NOT a = 1", 'at position 5: expected a field name or "(" after "NOT", found "NOT"'],
    ["a ! b", 'at position 3: expected "!=", found "!"'],
    ["a = 1 AND (b = 2 OR c = 3", 'at position 26: expected AND, OR or ")" to close the "(" at position 11, found end of filter'],
    // Positions count characters, not UTF-16 units: each emoji is one.
    ['name = "🚀🚀" AND', 'at position 16: expected a field name or "(" after "AND", found end of filter'],
  ];
  it.each(cases)("%j", (text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it("refuses control characters (NUL included) and lone surrogates", () => {
    expect(errorOf('name = "a\u0000b"')).toBe("at position 10: control character \\x00 is not allowed");
    expect(errorOf("name = a\u001bb")).toBe("at position 9: control character \\x1b is not allowed");
    expect(errorOf("name = a\u007f")).toBe("at position 9: control character \\x7f is not allowed");
    expect(errorOf('name = "\ud800"')).toBe("at position 9: invalid unicode (a lone surrogate) is not allowed");
  });
});

describe("parseFilter: limits", () => {
  it(`allows ${FILTER_MAX_LENGTH} characters, counting code points`, () => {
    const pad = (n: number) => `name = "${"x".repeat(n - 9)}"`;
    expect(parseFilter(pad(FILTER_MAX_LENGTH)).kind).toBe("compare");
    expect(errorOf(pad(FILTER_MAX_LENGTH + 1))).toBe(`is longer than ${FILTER_MAX_LENGTH} characters`);
    // 1,990 emoji are 3,980 UTF-16 units but 1,990 characters.
    expect(parseFilter(`name = "${"🚀".repeat(FILTER_MAX_LENGTH - 10)}"`).kind).toBe("compare");
    expect(errorOf("x".repeat(10_000_000))).toBe(`is longer than ${FILTER_MAX_LENGTH} characters`);
  });

  it(`allows ${FILTER_MAX_DEPTH} levels of parentheses`, () => {
    const nest = (n: number) => `${"(".repeat(n)}a = 1${")".repeat(n)}`;
    expect(canon(nest(FILTER_MAX_DEPTH))).toBe("a = 1");
    expect(errorOf(nest(FILTER_MAX_DEPTH + 1))).toBe(`at position ${FILTER_MAX_DEPTH + 1}: parentheses nest deeper than ${FILTER_MAX_DEPTH} levels`);
    // Depth is nesting, not the number of groups.
    expect(parseFilter(Array.from({ length: 40 }, () => "(a = 1)").join(" AND ")).kind).toBe("and");
  });

  it(`allows ${FILTER_MAX_COMPARISONS} comparisons`, () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `f${i} = ${i}`).join(" OR ");
    expect(parseFilter(many(FILTER_MAX_COMPARISONS)).kind).toBe("or");
    const text = many(FILTER_MAX_COMPARISONS + 1);
    const pos = text.indexOf(`f${FILTER_MAX_COMPARISONS} `) + 1;
    expect(errorOf(text)).toBe(`at position ${pos}: has more than ${FILTER_MAX_COMPARISONS} comparisons; the limit is ${FILTER_MAX_COMPARISONS}`);
  });
});
