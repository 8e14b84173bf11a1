// The Node.js versions modelreg supports, stated once (the root package.json's
// engines) and true of everything installed: every workspace says the same,
// every package in the lockfile accepts each supported version (so `npm
// install` prints no EBADENGINE warning on any of them), and the Node this
// runs on is one of them.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { expect, it } from "vitest";
import { REPO_ROOT } from "./support/server.js";

const readJson = (path: string) => JSON.parse(readFileSync(join(REPO_ROOT, path), "utf8"));
const root = readJson("package.json") as { engines: { node: string }; workspaces: string[] };
const SUPPORTED = root.engines.node;

it("states one supported range, which this Node satisfies", () => {
  expect(semver.validRange(SUPPORTED)).not.toBeNull();
  expect(semver.satisfies(process.version, SUPPORTED), `node ${process.version} is outside ${SUPPORTED}`).toBe(true);
  const workspaces = root.workspaces.flatMap((w) => (w.endsWith("/*") ? readdirSync(join(REPO_ROOT, w.slice(0, -2))).map((d) => `${w.slice(0, -2)}/${d}`) : [w]));
  expect(workspaces.length).toBeGreaterThan(5);
  for (const w of workspaces) expect(readJson(`${w}/package.json`).engines?.node, w).toBe(SUPPORTED);
});

it("installs nothing that refuses a supported Node version", () => {
  const lock = readJson("package-lock.json") as { packages: Record<string, { engines?: { node?: string } | string[] }> };
  const refusing: string[] = [];
  for (const [path, pkg] of Object.entries(lock.packages)) {
    const wanted = !pkg.engines || Array.isArray(pkg.engines) ? undefined : pkg.engines.node;
    if (wanted && !semver.subset(SUPPORTED, wanted)) refusing.push(`${path} wants node ${wanted}`);
  }
  expect(refusing).toEqual([]);
});
