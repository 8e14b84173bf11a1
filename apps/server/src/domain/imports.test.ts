// Imports point one way, from the outside in: the domain imports nothing of
// the layers around it (auth, storage, jobs, http, services, interceptors,
// grpc); what it needs of them it declares as a port (./ports/) that they
// implement. Its tests may use the test harness (../testing/).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { expect, it } from "vitest";

const DOMAIN = import.meta.dirname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Relative import specifiers of a file (static imports and re-exports). */
function relativeImports(text: string): string[] {
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]!);
}

it("has no import from the layers around it", () => {
  const outward: string[] = [];
  for (const file of sources(DOMAIN)) {
    const isTest = file.endsWith(".test.ts");
    for (const spec of relativeImports(readFileSync(file, "utf8"))) {
      const target = resolve(dirname(file), spec);
      const inside = !relative(DOMAIN, target).startsWith("..");
      const harness = isTest && !relative(join(DOMAIN, "../testing"), target).startsWith("..");
      if (!inside && !harness) outward.push(`${relative(DOMAIN, file)} imports ${spec}`);
    }
  }
  expect(outward).toEqual([]);
});

it("would catch one", () => {
  expect(relativeImports('import type { BlobStore } from "../storage/blob-store.js";\nexport { x } from "./ports/y.js";')).toEqual(["../storage/blob-store.js", "./ports/y.js"]);
});
