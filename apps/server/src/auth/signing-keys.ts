// The keys that sign download and upload URLs. Every replica must verify what
// any other signed, so the secret lives in the database (created once, by
// whichever replica starts first) unless URL_SIGNING_KEY gives one.
import { randomBytes } from "node:crypto";
import { type Database, signingKeys } from "@modelreg/db";
import { desc } from "drizzle-orm";
import type { SigningKey } from "./signed-urls.js";

const FIRST_KEY_ID = "k1";

/** The signing keys, newest first; creates the first one when there is none. */
export async function loadSigningKeys(db: Database, fromEnv?: string): Promise<SigningKey[]> {
  if (fromEnv) return [{ id: "env", secret: Buffer.from(fromEnv, "utf8") }];
  const read = () => db.select().from(signingKeys).orderBy(desc(signingKeys.createTime));
  let rows = await read();
  if (rows.length === 0) {
    // A fixed id: replicas starting together create exactly one key.
    await db.insert(signingKeys).values({ id: FIRST_KEY_ID, secret: randomBytes(32).toString("base64url") }).onConflictDoNothing();
    rows = await read();
  }
  return rows.map((r) => ({ id: r.id, secret: Buffer.from(r.secret, "base64url") }));
}
