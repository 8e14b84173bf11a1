// The browser entry stays browser-only: bundled by esbuild for the browser
// (as a page's bundler would, through the "browser" export conditions), it
// reaches no node: module and no package but the ones a browser can run.
// The Node entry, bundled the same way, shows the guard catches both.
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const NODE_BUILTINS = new Set(builtinModules);
/** What the browser entry may bundle besides the SDK's own sources. */
const BROWSER_PACKAGES = ["@bufbuild/protobuf", "@connectrpc/connect", "@connectrpc/connect-web", "@modelreg/proto"];
/** The repository's root: esbuild names its inputs relative to it. */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Bundles `entry` for the browser; the Node builtins it reaches, and the packages it bundles. */
async function bundleForBrowser(entry: string) {
  const nodeImports = new Set<string>();
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    // The workspace's sources, as everywhere inside the monorepo.
    conditions: ["@modelreg/source"],
    metafile: true,
    logLevel: "silent",
    plugins: [
      {
        name: "node-builtins",
        setup(b) {
          // Recorded and left out, so that every one is listed, not just the first.
          b.onResolve({ filter: /.*/ }, (args) => {
            const bare = args.path.replace(/^node:/, "");
            if (!args.path.startsWith("node:") && !NODE_BUILTINS.has(bare)) return undefined;
            nodeImports.add(`${args.path} (from ${args.importer.replace(/.*\/(packages|node_modules)\//, "$1/")})`);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  const packages = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) packages.add(m[1]!);
    else if (input.startsWith("packages/proto/")) packages.add("@modelreg/proto");
    else if (!input.startsWith("packages/sdk/src/")) packages.add(input);
  }
  return { nodeImports: [...nodeImports].sort(), packages: [...packages].sort(), bytes: result.outputFiles[0]!.contents.length };
}

describe("the browser entry", () => {
  it("imports no node: module and no Node-only package, anywhere in its graph", async () => {
    const { nodeImports, packages, bytes } = await bundleForBrowser("./browser.ts");
    expect(nodeImports).toEqual([]);
    expect(packages.filter((p) => !BROWSER_PACKAGES.includes(p))).toEqual([]);
    expect(packages).toEqual(expect.arrayContaining(["@connectrpc/connect-web", "@modelreg/proto"]));
    expect(bytes).toBeGreaterThan(0);
  }, 180_000);

  it("type-checks for a page: the DOM's types and no Node's, under the strictest flags", () => {
    const program = ts.createProgram([fileURLToPath(new URL("./browser.ts", import.meta.url))], {
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2023.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      customConditions: ["@modelreg/source"],
      types: [],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      noEmit: true,
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName.replace(ROOT, "")}(${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}): ` : "";
      return where + ts.flattenDiagnosticMessageText(d.messageText, "\n");
    });
    expect(errors).toEqual([]);
  }, 180_000);

  it("is guarded by a check that catches the Node entry's imports", async () => {
    const { nodeImports, packages } = await bundleForBrowser("./index.ts");
    expect(nodeImports.some((i) => i.startsWith("node:fs"))).toBe(true);
    expect(packages).toContain("@connectrpc/connect-node");
  }, 180_000);
});
