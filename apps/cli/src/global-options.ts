// Options of the root program, accepted before or after the subcommand:
// where the server is, which key to present, which workspace short names
// resolve in, how to print.
import { InvalidArgumentError, Option, type Command } from "commander";
import { resolveCredential, sameServer, type ActiveProfile, type Credential } from "./credentials.js";
import { UsageError } from "./exit-codes.js";
import type { Io } from "./io.js";
import { completeWith } from "./completion/values.js";
import { outputFormats, type OutputFormat } from "./output.js";
import { checkProfileName, DEFAULT_PROFILE, profilesPath, readProfiles } from "./profiles.js";

export const DEFAULT_SERVER = "http://localhost:8080";
export const DEFAULT_WORKSPACE = "default";
export const DEFAULT_TIMEOUT_MS = 30_000;

export const protocols = ["connect", "grpc", "grpc-web"] as const;
export type Protocol = (typeof protocols)[number];

export interface GlobalOptions {
  server: string;
  workspace: string;
  output: OutputFormat;
  protocol: Protocol;
  /** Deadline of each call in milliseconds; 0 for none. */
  timeoutMs: number;
  /** --quiet: no progress bar and no informational lines on stderr (errors still are). */
  quiet: boolean;
  /** The selected profile's name (--profile / MODELREG_PROFILE / "default"). */
  profileName: string;
  /** The selected profile, when it exists and is for `server`. */
  profile: ActiveProfile | undefined;
  /** The access key sent, and where it came from. */
  credential: Credential;
}

/** The flags as commander parsed them. */
export interface GlobalFlags {
  server?: string;
  workspace?: string;
  accessKey?: string;
  profile?: string;
  output: OutputFormat;
  protocol: Protocol;
  timeout: number;
  quiet?: boolean;
}

const isOutputFormat = (v: string | undefined): v is OutputFormat => (outputFormats as readonly string[]).includes(v ?? "");
/**
 * The commands whose `-o` may also name where they write (pull: the
 * directory; export and exports download: the archive), as with curl:
 * `table`, `json` and `yaml` stay formats, any other value is the path. (Commander
 * reads `-o` anywhere on the line as the program's, so it is one option.)
 */
const writesFiles = (cmd: Command) => cmd.name() === "pull" || cmd.name() === "export" || (cmd.name() === "download" && cmd.parent?.name() === "exports");

/** The path `-o` named on a command that writes files, or undefined when it named a format. */
export function outputPathOf(cmd: Command): string | undefined {
  const value = cmd.optsWithGlobals<{ output?: string }>().output;
  return isOutputFormat(value) ? undefined : value;
}

export function addGlobalOptions(program: Command): void {
  program
    .addOption(new Option("--server <url>", `server URL [env: MODELREG_SERVER] (default: the profile's, else ${DEFAULT_SERVER})`).argParser(parseUrl))
    .addOption(new Option("--access-key <token>", "access key <key_id>.<secret> [env: MODELREG_ACCESS_KEY] (default: the profile's, or a local server's DATA_DIR/admin.key; see modelreg --help)"))
    .addOption(new Option("--profile <name>", `saved login to use [env: MODELREG_PROFILE] (default: ${DEFAULT_PROFILE})`).argParser(parseProfileName))
    .addOption(new Option("--workspace <id>", `workspace of short names [env: MODELREG_WORKSPACE] (default: the profile's, else ${DEFAULT_WORKSPACE})`))
    .addOption(completeWith(new Option("-o, --output <format>", 'output format: "table", "json" or "yaml" (pull, export, exports download: or where to write)').default("table"), outputFormats))
    .addOption(new Option("--protocol <protocol>", "wire protocol").choices(protocols).default("connect"))
    .addOption(new Option("--timeout <ms>", "deadline of each call in milliseconds, 0 for none (push and pull: the longest wait for the next byte)").argParser(parseTimeout).default(DEFAULT_TIMEOUT_MS))
    .addOption(new Option("-q, --quiet", "no progress bar and no notes on stderr; errors are still printed (MODELREG_NO_PROGRESS=1: no progress bar only)"));
}

export interface ResolveOptions {
  /** Send this key instead of resolving one (login verifies the key it is given). */
  accessKey?: string;
  /** A profile named with --profile that does not exist is fine (login creates it). */
  allowMissingProfile?: boolean;
}

/** The profile name selected by --profile, else MODELREG_PROFILE, else "default"; and whether it was chosen explicitly. */
export function selectedProfile(cmd: Command, env: Io["env"]): { name: string; explicit: boolean } {
  const flag = cmd.optsWithGlobals<GlobalFlags>().profile;
  if (flag !== undefined) return { name: flag, explicit: true };
  const fromEnv = env.MODELREG_PROFILE?.trim();
  if (fromEnv) return { name: checkProfileName(fromEnv), explicit: true };
  return { name: DEFAULT_PROFILE, explicit: false };
}

/**
 * The global options of the command being run. Each setting comes from its
 * flag, else the environment, else the selected profile, else the default.
 * A profile is a unit: it applies (its workspace and access key) only when
 * its server is the one in use, i.e. --server / MODELREG_SERVER is not given
 * or names the same server. (The environment is read here, not by commander,
 * so tests can pass their own.)
 */
export function resolveGlobals(cmd: Command, io: Io, options: ResolveOptions = {}): GlobalOptions {
  const o = cmd.optsWithGlobals<GlobalFlags>();
  const env = io.env;
  const selected = selectedProfile(cmd, env);
  const path = profilesPath(io);
  const stored = path ? readProfiles(path)[selected.name] : undefined;
  if (selected.explicit && !stored && !options.allowMissingProfile) {
    throw new UsageError(
      path
        ? `there is no profile "${selected.name}" in ${path}: log in with modelreg login --profile ${selected.name}`
        : `there is no profile "${selected.name}": no config directory is known (set HOME or MODELREG_CONFIG_DIR)`,
    );
  }
  const given = o.server ?? envUrl(env.MODELREG_SERVER);
  const server = given ?? stored?.server ?? DEFAULT_SERVER;
  const profile = stored && path && sameServer(stored.server, server) ? { name: selected.name, path, profile: stored } : undefined;
  // (Not for login: it is about to replace the profile.)
  if (stored && !profile && selected.explicit && options.accessKey === undefined && !o.quiet) {
    io.stderr.write(`note: profile "${selected.name}" is for ${stored.server}, not ${server}: its access key and workspace are not used\n`);
  }
  const credential: Credential =
    options.accessKey !== undefined
      ? { token: options.accessKey, source: { kind: "login" } }
      : resolveCredential({ flag: o.accessKey, env, server, profile, cwd: io.cwd });
  return {
    server,
    workspace: o.workspace ?? (env.MODELREG_WORKSPACE || profile?.profile.workspace || DEFAULT_WORKSPACE),
    output: outputFormatOf(cmd, o.output),
    protocol: o.protocol,
    timeoutMs: o.timeout,
    quiet: o.quiet ?? false,
    profileName: selected.name,
    profile,
    credential,
  };
}

/** The output format `-o` gave; on a command that writes files a path means the default, table. */
function outputFormatOf(cmd: Command, value: string): OutputFormat {
  if (isOutputFormat(value)) return value;
  if (writesFiles(cmd)) return "table";
  throw new UsageError(`option '-o, --output <format>' argument '${value}' is invalid. Allowed choices are ${outputFormats.join(", ")} (a path only for pull, export and exports download).`);
}

function envUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return parseUrl(value);
  } catch (e) {
    throw new UsageError(`MODELREG_SERVER=${value}: ${(e as Error).message}`);
  }
}

export function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("expected a URL such as http://localhost:8080");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError("expected an http:// or https:// URL");
  return value.replace(/\/+$/, "");
}

function parseProfileName(value: string): string {
  try {
    return checkProfileName(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected a whole number of milliseconds, e.g. 30000");
  return n;
}
