// Options of the root program, accepted before or after the subcommand:
// where the server is, which workspace short names resolve in, how to print.
import { InvalidArgumentError, Option, type Command } from "commander";
import { UsageError } from "./exit-codes.js";
import { outputFormats, type OutputFormat } from "./output.js";

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
}

export function addGlobalOptions(program: Command): void {
  program
    .addOption(new Option("--server <url>", `server URL [env: MODELREG_SERVER] (default: ${DEFAULT_SERVER})`).argParser(parseUrl))
    .addOption(new Option("--workspace <id>", `workspace of short names [env: MODELREG_WORKSPACE] (default: ${DEFAULT_WORKSPACE})`))
    .addOption(new Option("-o, --output <format>", "output format").choices(outputFormats).default("table"))
    .addOption(new Option("--protocol <protocol>", "wire protocol").choices(protocols).default("connect"))
    .addOption(new Option("--timeout <ms>", "deadline of each call in milliseconds, 0 for none").argParser(parseTimeout).default(DEFAULT_TIMEOUT_MS));
}

/**
 * The global options of the command being run: a flag wins over the
 * environment, which wins over the default. (The environment is read here,
 * not by commander, so tests can pass their own.)
 */
export function resolveGlobals(cmd: Command, env: Record<string, string | undefined>): GlobalOptions {
  const o = cmd.optsWithGlobals<{ server?: string; workspace?: string; output: OutputFormat; protocol: Protocol; timeout: number }>();
  return {
    server: o.server ?? envUrl(env.MODELREG_SERVER) ?? DEFAULT_SERVER,
    workspace: o.workspace ?? (env.MODELREG_WORKSPACE || DEFAULT_WORKSPACE),
    output: o.output,
    protocol: o.protocol,
    timeoutMs: o.timeout,
  };
}

function envUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return parseUrl(value);
  } catch (e) {
    throw new UsageError(`MODELREG_SERVER=${value}: ${(e as Error).message}`);
  }
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("expected a URL such as http://localhost:8080");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError("expected an http:// or https:// URL");
  return value.replace(/\/+$/, "");
}

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected a whole number of milliseconds, e.g. 30000");
  return n;
}
