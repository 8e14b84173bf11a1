// The plans of the server's own queries, as PostgreSQL ran them: a second
// modelreg process whose connections load auto_explain (startup parameters
// in its DATABASE_URL, so no setting of the database changes and the
// measured server is untouched) logs EXPLAIN (ANALYZE, BUFFERS) of every
// statement to the PostgreSQL server log, which is read back through SQL
// (pg_read_file; superuser) or, failing that, from the file system.
import { readFileSync, readlinkSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { Sql } from "postgres";

/** Query parameters that make every backend of a postgres.js client log its plans. */
export const AUTO_EXPLAIN_PARAMS: Record<string, string> = {
  session_preload_libraries: "auto_explain",
  "auto_explain.log_min_duration": "0",
  "auto_explain.log_analyze": "on",
  "auto_explain.log_buffers": "on",
  "auto_explain.log_timing": "on",
  "auto_explain.log_nested_statements": "off",
  "auto_explain.log_format": "text",
};

export function withAutoExplain(url: string): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(AUTO_EXPLAIN_PARAMS)) u.searchParams.set(k, v);
  return u.toString();
}

export interface ServerLog {
  path: string;
  /** Current size in bytes. */
  size(): Promise<number>;
  /** The text from `offset` to the end. */
  readFrom(offset: number): Promise<string>;
}

/**
 * Finds the PostgreSQL server log: `given`, pg_current_logfile() (with the
 * logging collector), or the file a backend's stderr points at (Linux /proc,
 * same host; e.g. Debian's /var/log/postgresql/postgresql-15-main.log).
 */
export async function findServerLog(sql: Sql, given?: string): Promise<ServerLog | { error: string }> {
  let path = given;
  if (!path) {
    const [r] = await sql<{ f: string | null; dir: string; pid: number }[]>`SELECT pg_current_logfile() AS f, current_setting('data_directory') AS dir, pg_backend_pid() AS pid`;
    if (r!.f) path = isAbsolute(r!.f) ? r!.f : join(r!.dir, r!.f);
    else
      try {
        const target = readlinkSync(`/proc/${r!.pid}/fd/2`);
        if (isAbsolute(target) && !target.startsWith("/dev/")) path = target;
      } catch {
        // Not this host, or not allowed to look.
      }
  }
  if (!path) return { error: "the PostgreSQL server log was not found (no logging collector, and its stderr is not a file visible here); pass --pg-log FILE" };
  const p = path;
  try {
    await sql`SELECT size FROM pg_stat_file(${p})`;
    return {
      path: p,
      size: async () => Number((await sql<{ size: string }[]>`SELECT size::text FROM pg_stat_file(${p})`)[0]!.size),
      readFrom: async (offset) => {
        const [r] = await sql<{ t: string }[]>`SELECT pg_read_file(${p}, ${offset}::bigint, greatest((pg_stat_file(${p})).size - ${offset}::bigint, 0)) AS t`;
        return r!.t;
      },
    };
  } catch {
    try {
      statSync(p);
      return {
        path: p,
        size: async () => statSync(p).size,
        readFrom: async (offset) => readFileSync(p).subarray(offset).toString("utf8"),
      };
    } catch (e) {
      return { error: `cannot read the PostgreSQL server log ${p} (through pg_read_file or the file system): ${String(e)}` };
    }
  }
}

/** The auto_explain entries of database `db` in a stretch of the server log, each as its lines (prefix removed). */
export function plansIn(text: string, db: string): string[] {
  const entries: string[][] = [];
  let current: string[] | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("\t") || line.startsWith(" ")) {
      current?.push(line.replace(/^\t/, ""));
      continue;
    }
    current = undefined;
    const at = line.indexOf(" LOG:  duration: ");
    if (at >= 0 && line.includes(`@${db} `) && line.endsWith("plan:")) {
      current = [line.slice(at + " LOG:  ".length)];
      entries.push(current);
    }
  }
  return entries.map((e) => e.map(shortenSelectList).join("\n"));
}

/** `"versions"."id", "versions"."model_id", ...` (5 or more columns of one table in a row) -> `"versions".<31 columns>`. */
function shortenSelectList(line: string): string {
  if (!line.startsWith("Query Text:")) return line;
  return line.replace(/("[a-z_]+")\."[a-z_]+", (?:\1\."[a-z_]+", ){4,}/g, (run, table: string) => `${table}.<${run.split(", ").length - 1} columns>, `);
}
