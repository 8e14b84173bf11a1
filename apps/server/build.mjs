// Bundles the server (src/main.ts and the @modelreg/* workspace sources it
// imports) into dist/main.mjs, which `npm start` runs with plain node.
// Third-party packages stay external, loaded from node_modules as they are
// (PGlite finds its WebAssembly files next to itself). Running the bundle
// rather than the TypeScript through tsx saves tsx's loader thread and
// transform cache: about 45 MB of resident memory per server process.
import { build } from "esbuild";

await build({
  entryPoints: [new URL("./src/main.ts", import.meta.url).pathname],
  outfile: new URL("./dist/main.mjs", import.meta.url).pathname,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  // @modelreg/* workspace packages from their TypeScript sources (see the
  // "@modelreg/source" entries of their package.json "exports").
  conditions: ["@modelreg/source"],
  logLevel: "warning",
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
