#!/usr/bin/env node
// modelreg: the bundled CLI when it has been built (npm run build -w
// @modelreg/cli), otherwise the TypeScript source through tsx, so the command
// works in a fresh checkout too.
import { existsSync } from "node:fs";

const bundle = new URL("../dist/modelreg.mjs", import.meta.url);
if (existsSync(bundle)) {
  await import(bundle.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("../src/main.ts", import.meta.url).href);
}
