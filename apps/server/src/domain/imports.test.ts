// Imports point one way, from the outside in: the domain imports nothing of
// the layers around it (auth, storage, jobs, http, services, interceptors,
// grpc); what it needs of them it declares as a port (./ports/) that they
// implement. Its tests may use the test harness (../testing/).
//
// From the outside, a resource is reached through its index.ts only, and
// the database's tables are the domain's: outside it, only the job engine
// (the jobs table) and the signing keys (auth/signing-keys.ts) query one.
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

const SRC = resolve(DOMAIN, "..");

/** The non-test sources outside the domain and the test harness. */
function outerSources(): string[] {
  return sources(SRC).filter((f) => {
    const rel = relative(SRC, f);
    return !rel.startsWith("domain/") && !rel.startsWith("testing/") && !rel.endsWith(".test.ts");
  });
}

it("is reached from the outside through each resource's index.ts, shared/ and ports/", () => {
  const inward: string[] = [];
  for (const file of outerSources()) {
    for (const spec of relativeImports(readFileSync(file, "utf8"))) {
      const target = relative(DOMAIN, resolve(dirname(file), spec));
      if (target.startsWith("..")) continue;
      const [folder, ...rest] = target.split("/");
      if (folder === "shared" || folder === "ports" || rest.join("/") === "index.js") continue;
      inward.push(`${relative(SRC, file)} imports ${spec}`);
    }
  }
  expect(inward).toEqual([]);
});

/** Where tables may be used outside the domain: the engine's own table, and auth's signing keys. */
const TABLE_OWNERS: Record<string, (file: string) => boolean> = {
  jobs: (file) => file.startsWith("jobs/"),
  signingKeys: (file) => file === "auth/signing-keys.ts",
};
const NOT_TABLES = new Set(["openDatabase", "migrationsFolder", "schemaState"]);

/** The value (not type-only) names a file imports from @modelreg/db. */
function dbValueImports(text: string): string[] {
  return [...text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*"@modelreg\/db"/g)]
    .filter((m) => !m[1])
    .flatMap((m) => m[2]!.split(",").map((n) => n.trim()))
    .filter((n) => n !== "" && !n.startsWith("type "));
}

it("keeps the tables inside the domain", () => {
  const outside: string[] = [];
  for (const file of outerSources()) {
    const rel = relative(SRC, file);
    for (const name of dbValueImports(readFileSync(file, "utf8"))) {
      if (NOT_TABLES.has(name) || TABLE_OWNERS[name]?.(rel)) continue;
      outside.push(`${rel} uses the ${name} table`);
    }
  }
  expect(outside).toEqual([]);
  expect(dbValueImports('import { type Database, versions } from "@modelreg/db";\nimport type { Tx } from "@modelreg/db";')).toEqual(["versions"]);
});
