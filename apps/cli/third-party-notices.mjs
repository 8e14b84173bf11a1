// The license texts of the third-party packages bundled into the CLI, read
// from esbuild's metafile: the bundle carries their code, so its package
// carries their notices (MIT, ISC, BSD and Apache-2.0 all ask for that).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";

/** The notices file's text for a build's metafile (paths in it relative to `cwd`). */
export function thirdPartyNotices(metafile, cwd) {
  const roots = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    if (!input.split(/[\\/]/).includes("node_modules")) continue;
    const root = packageRoot(join(cwd, input));
    if (root) roots.add(root);
  }
  const sections = [...roots]
    .map((root) => ({ root, pkg: JSON.parse(readFileSync(join(root, "package.json"), "utf8")) }))
    .sort((a, b) => a.pkg.name.localeCompare(b.pkg.name))
    .map(({ root, pkg }) => {
      const file = readdirSync(root).find((f) => /^(licen[cs]e|copying)(\.|-|$)/i.test(f));
      const license = pkg.license ?? "no license stated";
      const apache = /Apache-2\.0/.test(license) ? "; the Apache License 2.0 text is this package's LICENSE file" : "";
      const text = file ? readFileSync(join(root, file), "utf8").trim() : `(the package has no license file: its package.json says ${license}${apache})`;
      return `${pkg.name}@${pkg.version}: ${license}\n${"-".repeat(72)}\n${text}\n`;
    });
  return `The modelreg CLI (modelreg.mjs) bundles these packages; their licenses follow.\n\n${sections.join("\n\n")}`;
}

/** The nearest directory above `file`, inside node_modules, whose package.json names a package. */
function packageRoot(file) {
  for (let dir = dirname(file); dir.includes(`${sep}node_modules${sep}`); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, "utf8"));
    if (pkg.name && pkg.version) return dir;
  }
  return undefined;
}
