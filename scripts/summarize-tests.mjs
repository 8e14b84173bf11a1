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
const lines = text.split("\n");
for (const [i, line] of lines.entries()) {
  // vitest's unhandled errors fail a run whose tests all passed: name them too.
  const u = /^(?:(\S+):test:)?\s*⎯+\s*(Unhandled \w+)\s*⎯+/.exec(line);
  if (u) {
    const body = lines.slice(i + 1, i + 12).map((l) => l.replace(/^\S+:test:\s?/, "").trim()).filter((l) => l && !l.startsWith("⎯"));
    failures.add(`failed: ${u[1] ? `${u[1]} ` : ""}${u[2].toLowerCase()}: ${body.slice(0, 4).join(" | ")}`);
  }
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
