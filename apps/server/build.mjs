// Bundles the server (src/main.ts and the @modelreg/* workspace sources it
// imports) into dist/main.mjs, which `npm start` runs with plain node.
// Third-party packages stay external, loaded from node_modules as they are
// (PGlite finds its WebAssembly files next to itself). Running the bundle
// rather than the TypeScript through tsx saves tsx's loader thread and
// transform cache: about 45 MB of resident memory per server process.
//
// What the sources load with import() (the S3 store and its AWS SDK) goes
// into chunks of its own (dist/chunks/), loaded when it is: in one file,
// esbuild would hoist the SDK's import to the top of main.mjs, and every
// server would load it (4.6 MB of JavaScript heap that every full
// collection marks; bench export's idle server RSS went from 183 to 175 MB
// without it) to store its files on disk.
import { rmSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const dist = new URL("./dist", import.meta.url).pathname;
rmSync(dist, { recursive: true, force: true }); // no chunks of an earlier build left behind
const result = await build({
  entryPoints: { main: new URL("./src/main.ts", import.meta.url).pathname },
  outdir: dist,
  outExtension: { ".js": ".mjs" },
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  // Stack traces name the sources' files and lines (npm start runs with
  // --enable-source-maps); the sources themselves are in the checkout. With
  // their text inside the map (1.7 MB instead of 0.4), every server held
  // it in its JavaScript heap: 1.5 MB more at idle, marked at each full
  // collection.
  sourcesContent: false,
  // @modelreg/* workspace packages from their TypeScript sources (see the
  // "@modelreg/source" entries of their package.json "exports").
  conditions: ["@modelreg/source"],
  logLevel: "warning",
  // dist/meta.json: what each output imports, and how (a test checks what main.mjs loads at start).
  metafile: true,
  absWorkingDir: new URL(".", import.meta.url).pathname, // meta.json's paths: from apps/server, wherever the build runs
  plugins: [
    {
      name: "workspace-only",
      setup(b) {
        // Bare imports outside the workspace are left to node at run time.
        b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith("@modelreg/") ? undefined : { path: args.path, external: true }));
      },
    },
  ],
});
writeFileSync(`${dist}/meta.json`, JSON.stringify(result.metafile));
