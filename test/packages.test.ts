// The published packages as another project gets them: `npm pack` of
// @modelreg/proto, @modelreg/sdk and @modelreg/cli (each built by its
// prepack), the tarballs installed into an empty project outside the
// repository, and there, against a real server: the README's plain-node
// script, a strict TypeScript consumer of the SDK's declarations, and the
// installed `modelreg`; and the CLI's tarball installed alone into a
// directory of its own (no node_modules above it), where plain node runs its
// one file to list, push and pull. One pack serves every case.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import { Code, codeName, createRegistryClient } from "@modelreg/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { npmEnv } from "./support/npm.js";
import { REPO_ROOT, type ServerProcess, startServer, tempDir } from "./support/server.js";
import { E2E_ADMIN_TOKEN } from "./support/setup.js";

const run = promisify(execFile);
const PACKAGES = ["@modelreg/proto", "@modelreg/sdk", "@modelreg/cli"] as const;
const TSC = join(REPO_ROOT, "node_modules/typescript/bin/tsc");
const ESBUILD = join(REPO_ROOT, "node_modules/.bin/esbuild");

interface Packed {
  name: string;
  filename: string;
  files: { path: string; mode: number }[];
}

const npm = (args: string[], cwd: string) => run("npm", args, { cwd, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 });

let server: ServerProcess;
const tarballs = tempDir("modelreg-tarballs-");
const project = tempDir("modelreg-consumer-");
const config = tempDir("modelreg-consumer-config-");
const cliAlone = tempDir("modelreg-cli-alone-");
let packed: Packed[] = [];
const packedOf = (name: string) => packed.find((p) => p.name === name)!;

beforeAll(async () => {
  // The consumer lives in the OS temp dir: no node_modules of this
  // repository above it for node, tsc or npm to find.
  expect(relative(REPO_ROOT, project.path).startsWith("..")).toBe(true);
  const [started, pack] = await Promise.all([startServer(), npm(["pack", ...PACKAGES.flatMap((p) => ["-w", p]), "--pack-destination", tarballs.path, "--json"], REPO_ROOT)]);
  server = started;
  packed = JSON.parse(pack.stdout) as Packed[];
  expect(packed.map((p) => p.name).sort()).toEqual([...PACKAGES].sort());
  writeFileSync(join(project.path, "package.json"), `${JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2)}\n`);
  // Third-party dependencies come from the registry (or npm's cache); the
  // consumer's own @types/node at the version this repository uses.
  const typesNode = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules/@types/node/package.json"), "utf8")).version as string;
  await npm(["install", "--prefer-offline", ...packed.map((p) => join(tarballs.path, p.filename)), `@types/node@${typesNode}`], project.path);
}, 300_000);

afterAll(async () => {
  await server?.stop();
  for (const d of [tarballs, project, config, cliAlone]) d.remove();
});

it("packs built JavaScript, declarations, source maps and the license, and no sources, tests or monorepo files", () => {
  const license = readFileSync(join(REPO_ROOT, "LICENSE"), "utf8");
  expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  for (const name of PACKAGES) {
    const paths = packedOf(name).files.map((f) => f.path);
    const installed = join(project.path, "node_modules", name);
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    expect(manifest.license, name).toBe("Apache-2.0");
    expect(readFileSync(join(installed, "LICENSE"), "utf8"), name).toBe(license);
    expect(paths.filter((p) => !/^(dist\/|LICENSE$|README\.md$|package\.json$)/.test(p)), name).toEqual([]);
    expect(paths.filter((p) => /\.test\.|\/testing\/|tsconfig|\.ts$/.test(p) && !p.endsWith(".d.ts")), name).toEqual([]);
    // Nothing runs at install time.
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => /^(pre|post)?install$|^prepare$/.test(s)), name).toEqual([]);
  }
  for (const name of ["@modelreg/proto", "@modelreg/sdk"]) {
    const paths = packedOf(name).files.map((f) => f.path);
    expect(paths, name).toContain("dist/index.js");
    expect(paths, name).toContain("dist/index.d.ts");
    expect(paths, name).toContain("dist/index.js.map");
  }
  expect(packedOf("@modelreg/sdk").files.map((f) => f.path)).toContain("dist/browser.js");
  // Every package the built code imports is a declared dependency (or a node: module).
  for (const name of ["@modelreg/proto", "@modelreg/sdk"]) {
    const installed = join(project.path, "node_modules", name);
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    const imported = new Set<string>();
    for (const file of readdirSync(join(installed, "dist"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"))) {
      for (const m of readFileSync(join(installed, "dist", file), "utf8").matchAll(/(?:from |import\()"([^".][^"]*)"/g)) imported.add(/^(@[^/]+\/[^/]+|[^/]+)/.exec(m[1]!)![1]!);
    }
    const undeclared = [...imported].filter((p) => !p.startsWith("node:") && !(p in (manifest.dependencies ?? {})));
    expect(undeclared, name).toEqual([]);
    expect(imported.size, name).toBeGreaterThan(0);
  }
  const sdk = JSON.parse(readFileSync(join(project.path, "node_modules/@modelreg/sdk/package.json"), "utf8"));
  expect(sdk.dependencies["@modelreg/proto"]).toBe("0.1.0");
});

it("runs the README's plain-node script: a model, a version, a file uploaded and downloaded", async () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### The SDK in another project (Node)"));
  const script = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  expect(script, "README has a js block under its Node SDK section").toBeTruthy();
  writeFileSync(join(project.path, "app.mjs"), script!);
  const env = { ...process.env, MODELREG_SERVER: server.url };
  // Twice: the second run finds the model (AlreadyExists handled) and makes the next version.
  for (const expected of ["1.0.0", "1.0.1"]) {
    const { stdout } = await run(process.execPath, ["app.mjs"], { cwd: project.path, env });
    const [name, sha256, same] = stdout.trim().split(" ");
    expect(name).toBe(`workspaces/default/models/churn/versions/${expected}`);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(same).toBe("true");
  }
  const registry = createRegistryClient({ baseUrl: server.url });
  const versions: string[] = [];
  for await (const v of registry.listAllVersions("churn")) versions.push(v.version);
  expect(versions.sort()).toEqual(["1.0.0", "1.0.1"]);
});

it("type-checks a consumer of the SDK's public API under strict, exactOptionalPropertyTypes and noUncheckedIndexedAccess, with skipLibCheck off", async () => {
  const dir = join(project.path, "typed");
  writeFileSync(join(project.path, "tsconfig.json"), JSON.stringify(CONSUMER_TSCONFIG, null, 2));
  writeFileSync(join(project.path, "consumer.ts"), CONSUMER_TS);
  const r = await run(process.execPath, [TSC, "-p", project.path, "--outDir", dir], { cwd: project.path }).catch((e: { stdout: string; code: number }) => e);
  expect(r.stdout, "tsc found errors").toBe("");
  // The declarations were what it checked: not sources, not any.
  const { stdout: listed } = await run(process.execPath, [TSC, "-p", project.path, "--noEmit", "--listFilesOnly"], { cwd: project.path });
  const sdkFiles = listed.split("\n").filter((f) => f.includes("/node_modules/@modelreg/"));
  expect(sdkFiles.length).toBeGreaterThan(10);
  expect(sdkFiles.filter((f) => !f.endsWith(".d.ts"))).toEqual([]);
  // And the compiled consumer runs on the installed packages.
  const { stdout } = await run(process.execPath, [join(dir, "consumer.js"), server.url], { cwd: project.path });
  expect(JSON.parse(stdout)).toMatchObject({ code: codeName(Code.NotFound), notFound: true, workspace: "default", field: null });
});

it("gives a browser bundler the SDK's browser entry, which needs no node: module", async () => {
  writeFileSync(join(project.path, "page.js"), 'import { createRegistryClient } from "@modelreg/sdk";\nexport const client = createRegistryClient({ baseUrl: location.origin });\n');
  const meta = join(project.path, "page.meta.json");
  await run(ESBUILD, ["page.js", "--bundle", "--platform=browser", "--format=esm", `--metafile=${meta}`, "--outfile=page.bundle.js", "--log-level=error"], { cwd: project.path });
  const inputs = Object.keys(JSON.parse(readFileSync(meta, "utf8")).inputs as Record<string, unknown>);
  expect(inputs).toContain("node_modules/@modelreg/sdk/dist/browser.js");
  expect(inputs.filter((i) => i.startsWith("node_modules/@modelreg/sdk/dist/index") || i.startsWith("node:"))).toEqual([]);
});

it("runs the installed modelreg (one bundled file) against the server: versions list prints the version", async () => {
  const bin = join(project.path, "node_modules/.bin/modelreg");
  expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  const registry = createRegistryClient({ baseUrl: server.url });
  await registry.models.createModel({ parent: "workspaces/default", modelId: "cli-listed" });
  await registry.versions.createVersion({ parent: registry.modelName("cli-listed"), versionId: "3.1.4" });
  const env = { ...process.env, MODELREG_SERVER: server.url, MODELREG_CONFIG_DIR: config.path, MODELREG_NO_PROGRESS: "1" };
  // The bin itself, as a shell runs it (its #! line), not through this node.
  const { stdout } = await run(bin, ["versions", "list", "cli-listed"], { cwd: project.path, env });
  expect(stdout).toContain("3.1.4");
  const { stdout: json } = await run(bin, ["versions", "list", "cli-listed", "-o", "json"], { cwd: project.path, env });
  expect(JSON.stringify(JSON.parse(json))).toContain('"3.1.4"');
});

it("installs the CLI alone with nothing else: no dependencies, offline, and with plain node it lists, pushes and pulls against the server", async () => {
  // Its own directory in the OS temp dir, not inside the consumer project:
  // no node_modules above it that could hide a package the bundle left out.
  const alone = cliAlone.path;
  expect(relative(project.path, alone).startsWith("..")).toBe(true);
  for (let d = dirname(alone); ; d = dirname(d)) {
    expect(existsSync(join(d, "node_modules")), `${d}/node_modules`).toBe(false);
    if (dirname(d) === d) break;
  }
  const cli = join(tarballs.path, packedOf("@modelreg/cli").filename);
  expect(packedOf("@modelreg/cli").files.map((f) => f.path).sort()).toEqual(["LICENSE", "README.md", "dist/THIRD-PARTY-LICENSES.txt", "dist/modelreg.mjs", "package.json"]);
  writeFileSync(join(alone, "package.json"), `${JSON.stringify({ name: "cli-alone", private: true }, null, 2)}\n`);
  // --offline: a dependency to fetch would fail the install.
  await npm(["install", "--offline", "--omit=dev", cli], alone);
  await npm(["ci", "--offline", "--omit=dev"], alone);
  expect(readdirSync(join(alone, "node_modules")).filter((d) => !d.startsWith("."))).toEqual(["@modelreg"]);
  expect(readdirSync(join(alone, "node_modules/@modelreg"))).toEqual(["cli"]);
  const manifest = JSON.parse(readFileSync(join(alone, "node_modules/@modelreg/cli/package.json"), "utf8"));
  expect(manifest.dependencies ?? {}).toEqual({});
  expect(manifest.bin).toEqual({ modelreg: "dist/modelreg.mjs" });
  expect(existsSync(join(alone, "node_modules/.bin/modelreg"))).toBe(true);
  // Plain node (no tsx, no loader, no NODE_OPTIONS) on the installed file.
  const bundle = join(alone, "node_modules/@modelreg/cli/dist/modelreg.mjs");
  const env: NodeJS.ProcessEnv = { ...process.env, MODELREG_SERVER: server.url, MODELREG_ACCESS_KEY: E2E_ADMIN_TOKEN, MODELREG_CONFIG_DIR: join(alone, "config"), MODELREG_CACHE_DIR: join(alone, "cache"), MODELREG_NO_PROGRESS: "1" };
  delete env.NODE_OPTIONS;
  const modelreg = (...args: string[]) => run(process.execPath, [bundle, ...args], { cwd: alone, env });
  expect((await modelreg("--version")).stdout.trim()).toBe(manifest.version);
  await modelreg("models", "create", "cli-alone");
  const bytes = randomBytes(64 * 1024 + 7);
  writeFileSync(join(alone, "weights.bin"), bytes);
  await modelreg("push", "weights.bin", "cli-alone:2.7.1");
  const { stdout: listed } = await modelreg("versions", "list", "cli-alone", "-o", "json");
  expect(JSON.stringify(JSON.parse(listed))).toContain('"2.7.1"');
  const { stdout: table } = await modelreg("versions", "list", "cli-alone");
  expect(table).toContain("2.7.1");
  await modelreg("pull", "cli-alone:2.7.1", "-d", "pulled");
  expect(readdirSync(join(alone, "pulled"))).toEqual(["weights.bin"]);
  expect(readFileSync(join(alone, "pulled/weights.bin")).equals(bytes)).toBe(true);
  // The server holds what was pushed, by its sha256.
  const registry = createRegistryClient({ baseUrl: server.url });
  const files = (await registry.files.listVersionFiles({ version: { case: "name", value: "workspaces/default/models/cli-alone/versions/2.7.1" } })).files;
  expect(files.map((f) => [f.path, f.sha256])).toEqual([["weights.bin", createHash("sha256").update(bytes).digest("hex")]]);
  // The licenses of the packages bundled into it travel with it.
  const notices = readFileSync(join(alone, "node_modules/@modelreg/cli/dist/THIRD-PARTY-LICENSES.txt"), "utf8");
  for (const name of ["commander", "yaml", "@connectrpc/connect", "@bufbuild/protobuf"]) expect(notices).toContain(`\n${name}@`);
});

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    types: ["node"],
  },
  files: ["consumer.ts"],
};

// The SDK's public API as a strict TypeScript project uses it: options built
// from values that may be undefined, raw RPCs with protobuf-es messages, the
// transfer helpers, paging, and errors. Each @ts-expect-error must be an
// error, so the declarations cannot have gone `any`.
const CONSUMER_TS = `
import { create } from "@bufbuild/protobuf";
import { ModelSchema, type Model } from "@modelreg/proto";
import {
  Code, ConnectError, codeName, createRegistryClient, errorDetails, modelName,
  type DownloadedFile, type DownloadOptions, type RegistryClient, type RegistryClientOptions, type UploadFileOptions, type Version, VersionState,
} from "@modelreg/sdk";
import { type BrowserRegistryClient, createRegistryClient as createBrowserClient } from "@modelreg/sdk/browser";

const options: RegistryClientOptions = {
  baseUrl: process.argv[2] ?? "http://localhost:8080",
  accessKey: process.env.MODELREG_ACCESS_KEY,
  workspace: process.env.MODELREG_WORKSPACE,
  timeoutMs: process.env.TIMEOUT ? Number(process.env.TIMEOUT) : undefined,
};
const registry: RegistryClient = createRegistryClient(options);

export async function roundTrip(localPath: string, signal?: AbortSignal): Promise<DownloadedFile> {
  const model: Model = create(ModelSchema, { description: "typed" });
  const { model: created } = await registry.models.createModel({ parent: "workspaces/default", modelId: "typed", model });
  const parent: string = created?.name ?? modelName("default", "typed");
  const { version } = await registry.versions.createVersion({ parent, versionId: "1.0.0" });
  const upload: UploadFileOptions = { signal, onProgress: (p) => console.error(p.bytesDone) };
  const ready: Version = await registry.uploadFile(\`typed:\${version?.version ?? "1.0.0"}\`, localPath, upload);
  if (ready.state !== VersionState.READY) throw new Error("not ready");
  const download: DownloadOptions = { signal, resume: false };
  return registry.downloadToFile("typed:1.0.0", localPath.split("/").at(-1) ?? localPath, "copy.bin", download);
}

// The browser entry's declarations, checked here too (lib includes the DOM by default).
export async function fromPage(blob: Blob, accessKey?: string): Promise<Uint8Array> {
  const page: BrowserRegistryClient = createBrowserClient({ baseUrl: location.origin, accessKey });
  await page.uploadBlob("typed:1.0.0", blob);
  return page.downloadBytes("typed:1.0.0", "model.bin");
}

export async function names(filter?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const m of registry.listAllModels({ filter, orderBy: "update_time desc" })) out.push(m.name);
  return out;
}

async function main(): Promise<void> {
  try {
    await registry.models.getModel({ name: modelName("default", "does-not-exist") });
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    const details = errorDetails(err);
    const reason: string | undefined = details.reason;
    const first = details.fieldViolations[0];
    console.log(JSON.stringify({ code: codeName(err.code), notFound: err.code === Code.NotFound, workspace: registry.workspace, reason, field: first?.field ?? null }));
  }
}
await main();

// Compiled, never called.
export function misuses(): void {
  // @ts-expect-error a version reference is a string
  void registry.uploadFile(42, "x");
  // @ts-expect-error downloadToFile resolves a DownloadedFile, not a string
  const wrong: Promise<string> = registry.downloadToFile("m:1", "a");
  void wrong;
  // @ts-expect-error a client needs its server's address
  createRegistryClient({});
}
`;
