// Bundles the CLI (src/main.ts, the @modelreg/* workspace sources it imports
// and every third-party package) into dist/modelreg.mjs: one file that runs
// with plain node and no node_modules. It is the package's `modelreg` bin, so
// the published package has no runtime dependencies and nothing to build at
// install time (`npm pack` runs this through prepack).
import { chmodSync } from "node:fs";
import { build } from "esbuild";

const outfile = new URL("./dist/modelreg.mjs", import.meta.url).pathname;

await build({
  entryPoints: [new URL("./src/main.ts", import.meta.url).pathname],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // @modelreg/* workspace packages from their TypeScript sources (see the
  // "@modelreg/source" entries of their package.json "exports").
  conditions: ["@modelreg/source"],
  // The bin's interpreter line, and `require` for the CommonJS packages
  // bundled into this ES module.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
});
chmodSync(outfile, 0o755);
