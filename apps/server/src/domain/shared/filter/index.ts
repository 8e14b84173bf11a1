// List filters: a subset of AIP-160 (https://google.aip.dev/160). The text
// between the rules below is the user documentation; copy it into the proto
// comment of each `filter` field, followed by that method's field list.
// ---------------------------------------------------------------------------
// A filter is a list of comparisons `field OPERATOR value`, joined with AND
// and OR, e.g.
//   state = ACTIVE AND labels.team = "risk"
//   metrics.f1 >= 0.85 AND (framework = PYTORCH OR framework = JAX)
//   create_time > "2024-01-31T00:00:00Z" AND NOT labels:deprecated
// An empty filter matches everything.
//
// Operators: = != < <= > >= and : (has). The field is always on the left.
// AND, OR and NOT are upper case. As AIP-160 specifies, OR binds tighter
// than AND (unlike most programming languages): `a AND b OR c` means
// `a AND (b OR c)`. Use parentheses to make the intent plain. `NOT x` and
// `-x` negate a comparison or a parenthesised group. Comparisons must be
// joined with AND or OR; `a = 1 b = 2` is refused.
//
// Values:
//   strings     "double" or 'single' quoted, with \" \' and \\ escapes; a
//               single word (PYTORCH, resnet-50) needs no quotes
//   numbers     42, -1.5, 2.5e-3
//   booleans    true, false
//   timestamps  RFC 3339: "2024-01-31T12:00:00Z", "2024-01-31T13:00:00+01:00"
//   enums       the value's name, any case: state = active
// A value must suit its field: `create_time > "yesterday"` is an error.
// String comparisons are exact and case-sensitive. A leading or trailing *
// (an AIP-160 wildcard) is not supported yet and is refused.
//
// Maps (labels, metrics): `labels.team = "risk"` compares one key's value;
// everything after the first dot is the key. `labels:team` and
// `labels.team:*` are true when the key is present.
// A comparison against an absent key is false, but `a != v` means exactly
// `NOT a = v`, so `labels.team != "risk"` includes items without a team.
// On other fields `field:value` is the same as `field = value`, and
// `field:*` is true when the field is set (a string: non-empty).
//
// Not supported: bare words without a field (global search), functions,
// durations, wildcards. Limits: 2,000 characters, 64 comparisons,
// 32 levels of parentheses. Errors name the character position (1-based).
// ---------------------------------------------------------------------------
export { FILTER_MAX_COMPARISONS, FILTER_MAX_DEPTH, FILTER_MAX_LENGTH, filterError, formatFilter, parseFilter } from "./parse.js";
export type { Comparator, Comparison, FilterExpr, FilterValue } from "./parse.js";
export { compileFilter, isRfc3339 } from "./compile.js";
export type { FilterField, FilterFields } from "./compile.js";
