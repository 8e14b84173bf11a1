// The handlers are a leaf: only the wiring (app.ts) and tests import
// services/. What the byte routes and jobs share with the handlers (proto
// conversion) lives in convert/.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "..");
const SERVICES = import.meta.dirname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [join(dir, e.name)] : [],
  );
}

it("is imported only by app.ts and the test harness", () => {
  const importers: string[] = [];
  for (const file of sources(SRC)) {
    if (!relative(SERVICES, file).startsWith("..")) continue;
    const rel = relative(SRC, file);
    if (rel === "app.ts" || rel.startsWith("testing/")) continue;
    for (const m of readFileSync(file, "utf8").matchAll(/from\s+"(\.{1,2}\/[^"]+)"/g)) {
      if (!relative(SERVICES, resolve(dirname(file), m[1]!)).startsWith("..")) importers.push(`${rel} imports ${m[1]}`);
    }
  }
  expect(importers).toEqual([]);
});
