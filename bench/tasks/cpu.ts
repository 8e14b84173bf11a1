// Where the CPU went in each part of a phase: the server process, the
// PostgreSQL backends of the bench database, and this process (the load
// generator, which is also the baseline's client). Linux /proc; backends
// that come and go between two snapshots are missed (pools stay open).
import type { Sql } from "postgres";
import { cpuMs } from "../lib/processes.js";
import { now } from "./common.js";

export interface CpuSnapshot {
  at: number;
  server: number;
  postgres: Map<number, number>;
  generator: NodeJS.CpuUsage;
}

/** Seconds of wall time and of CPU between two snapshots. */
export interface CpuUse {
  wall: number;
  server: number;
  postgres: number;
  generator: number;
}

export async function cpuSnapshot(sql: Sql, serverPid: number): Promise<CpuSnapshot> {
  const rows = await sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`;
  return { at: now(), server: cpuMs(serverPid), postgres: new Map(rows.map((r) => [r.pid, cpuMs(r.pid)])), generator: process.cpuUsage() };
}

export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  let pg = 0;
  for (const [pid, ms] of b.postgres) if (Number.isFinite(ms)) pg += ms - (a.postgres.get(pid) ?? ms);
  const gen = (b.generator.user + b.generator.system - a.generator.user - a.generator.system) / 1000;
  return { wall: (b.at - a.at) / 1000, server: (b.server - a.server) / 1000, postgres: pg / 1000, generator: gen / 1000 };
}
