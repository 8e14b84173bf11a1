// Bundles the CLI (src/main.ts, the @modelreg/* workspace sources it imports
// and every third-party package) into dist/modelreg.mjs: one file that runs
// with plain node and no node_modules. It is the package's `modelreg` bin, so
// the published package has no runtime dependencies and nothing to build at
// install time (`npm pack` runs this through prepack). The licenses of the
// bundled packages go beside it in dist/THIRD-PARTY-LICENSES.txt.
import { chmodSync, writeFileSync } from "node:fs";
import { build } from "esbuild";
import { thirdPartyNotices } from "./third-party-notices.mjs";

const here = new URL(".", import.meta.url).pathname;
const outfile = new URL("./dist/modelreg.mjs", import.meta.url).pathname;

const result = await build({
  absWorkingDir: here,
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
  metafile: true,
  logLevel: "warning",
});
chmodSync(outfile, 0o755);
// The licenses of what the bundle carries, published beside it.
writeFileSync(new URL("./dist/THIRD-PARTY-LICENSES.txt", import.meta.url), thirdPartyNotices(result.metafile, here));
