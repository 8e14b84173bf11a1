// The bundle npm start runs (build.mjs): what main.mjs loads at start, and
// its source map.
import { readFile } from "node:fs/promises";
import { SourceMap } from "node:module";
import { relative, resolve } from "node:path";
import { expect, it } from "vitest";

const DIST = resolve(import.meta.dirname, "../dist");
const BUNDLE = resolve(DIST, "main.mjs");

// The AWS SDK is loaded only by the S3 store (storage/config.ts imports both
// when BLOB_STORE is s3://): the bundle must keep it that way, in a chunk
// that main.mjs imports dynamically. Bundled into main.mjs itself, the SDK's
// imports were hoisted to its top and every server loaded it.
it("loads the AWS SDK only for an S3 store: nothing main.mjs imports at start imports it", async () => {
  const meta = JSON.parse(await readFile(resolve(DIST, "meta.json"), "utf8")) as {
    outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
  };
  const root = resolve(DIST, ".."); // meta.json's paths are from apps/server
  const output = (file: string) => meta.outputs[relative(root, file)];
  // Every file of the bundle loaded at start: main.mjs and what it imports statically, transitively.
  const atStart = new Set<string>();
  const visit = (file: string) => {
    if (atStart.has(file)) return;
    atStart.add(file);
    for (const i of output(file)?.imports ?? []) if (i.kind === "import-statement" && !i.external) visit(resolve(root, i.path));
  };
  visit(BUNDLE);
  const loadedAtStart = [...atStart].flatMap((f) => output(f)!.imports.filter((i) => i.kind === "import-statement" && i.external).map((i) => i.path));
  expect(loadedAtStart).toContain("postgres");
  expect(loadedAtStart.filter((p) => p.startsWith("@aws-sdk/"))).toEqual([]);
  // It is there, for the S3 store.
  const dynamic = output(BUNDLE)!.imports.filter((i) => i.kind === "dynamic-import").map((i) => i.path);
  expect(dynamic).toContain("@aws-sdk/client-s3");
});

// V8 holds a script's source in memory for as long as the script lives, in
// one byte per character only if every character fits in Latin-1: a single
// "—" in a comment esbuild keeps (JSDoc of a class member) doubled main.mjs's
// 0.6 MB in every server's heap.
it("keeps main.mjs ASCII, so V8 holds its source at one byte per character", async () => {
  const lines = (await readFile(BUNDLE, "utf8")).split("\n");
  const wide = lines.flatMap((line, i) => (/[^\x00-\x7f]/.test(line) ? [`main.mjs:${i + 1}: ${line.trim()}`] : []));
  expect(wide, "write these in ASCII in the sources (JSDoc of class members is kept in the bundle)").toEqual([]);
});

it("maps main.mjs to the TypeScript sources without carrying their text", async () => {
  const map = JSON.parse(await readFile(`${BUNDLE}.map`, "utf8")) as { sourcesContent?: (string | null)[] };
  expect(map.sourcesContent ?? []).toEqual([]);
  const code = (await readFile(BUNDLE, "utf8")).split("\n");
  const line = code.findIndex((l) => l.includes("function createAccessLog("));
  const entry = new SourceMap(map as never).findEntry(line, code[line]!.indexOf("createAccessLog"));
  expect(entry).toMatchObject({ originalSource: "../src/interceptors/access-log.ts" });
});
