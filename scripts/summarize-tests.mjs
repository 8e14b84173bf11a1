#!/usr/bin/env node
// Reads the output of `npm test` (turbo running vitest in every workspace)
// and prints one closing line, "tests: N passed, N failed, N skipped", the
// plain form CI reads to know how many tests ran. Above it, each failing test
// is named ("failed: <workspace> <file> > <test>"), so a failure far up a long
// log is found from the summary alone.
import { readFileSync } from "node:fs";

const text = readFileSync(process.argv[2] ?? 0, "utf8").replace(/\x1b\[[0-9;]*m/g, "");
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = new Set();
for (const line of text.split("\n")) {
  // vitest's failure header: "<turbo prefix> FAIL  src/a.test.ts > suite > test"
  const f = /^(?:(\S+):test:)?\s*FAIL\s+(\S.*?)\s*$/.exec(line);
  if (f) failures.add(`failed: ${f[1] ? `${f[1]} ` : ""}${f[2]}`);
  const m = /\bTests\s+(.*)\(\d+\)\s*$/.exec(line);
  if (!m) continue;
  for (const part of m[1].split("|")) {
    const p = /(\d+)\s+(passed|failed|skipped|todo)/.exec(part);
    if (p && p[2] !== "todo") totals[p[2]] += Number(p[1]);
  }
}
for (const f of failures) console.log(f);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
