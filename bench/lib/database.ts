// A PostgreSQL database of the benchmark's own on a loopback server
// (--database-url), dropped at the end, or when the bench is interrupted.
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { onInterrupt } from "./processes.js";

export async function createBenchDatabase(adminUrl: string, log: (s: string) => void): Promise<{ url: string; drop(): Promise<void> }> {
  if (!["127.0.0.1", "localhost", "[::1]"].includes(new URL(adminUrl).hostname)) throw new Error("--database-url must point at a loopback address");
  const dbName = `modelreg_bench_${randomBytes(5).toString("hex")}`;
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  const drop = async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((e) => log(`could not drop ${dbName}: ${String(e)}`));
    await admin.end({ timeout: 1 });
  };
  onInterrupt(drop);
  return { url: u.toString(), drop };
}
