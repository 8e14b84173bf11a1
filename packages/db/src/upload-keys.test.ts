// Migration 0009 (unbound uploads) on both drivers: blobs keep the sha256 of
// their first MiB (nullable: content stored before it was kept has none),
// looked up by (size, head); an upload session may lack its sha256 (opened
// by CreateUploadSession), and a version's (version, sha256) key leaves
// such sessions out, so one that completes with the digest of another
// session of its version coexists with it.
import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { createTestDatabase, describeEachDatabase } from "./testing.js";

const rowsOf = <T>(r: unknown): T[] => (Array.isArray(r) ? r : (r as { rows: T[] }).rows) as T[];

describeEachDatabase("migration 0009", (kind) => {
  it("adds head digests to blobs and unbound upload sessions", async () => {
    const t = await createTestDatabase(kind);
    try {
      const columns = rowsOf<{ table_name: string; column_name: string; is_nullable: string }>(
        await t.db.execute(sql`SELECT table_name, column_name, is_nullable FROM information_schema.columns
          WHERE table_schema = 'public' AND ((table_name = 'blobs' AND column_name = 'head_sha256') OR (table_name = 'upload_sessions' AND column_name IN ('sha256', 'head_sha256')))
          ORDER BY table_name, column_name`),
      );
      expect(columns.map((c) => [c.table_name, c.column_name, c.is_nullable])).toEqual([
        ["blobs", "head_sha256", "YES"],
        ["upload_sessions", "head_sha256", "YES"],
        ["upload_sessions", "sha256", "YES"],
      ]);
      const indexes = rowsOf<{ indexname: string; indexdef: string }>(
        await t.db.execute(sql`SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN ('blobs_size_head_sha256_idx', 'upload_sessions_version_sha256_key') ORDER BY indexname`),
      );
      expect(indexes.map((i) => i.indexname)).toEqual(["blobs_size_head_sha256_idx", "upload_sessions_version_sha256_key"]);
      expect(indexes[0]!.indexdef).toMatch(/\(size, head_sha256\)/);
      expect(indexes[1]!.indexdef).toMatch(/UNIQUE INDEX .*\(version_id, sha256\) WHERE \(head_sha256 IS NULL\)/);

      // A blob stored before the migration (no head) and after it (with one).
      await t.db.execute(sql`INSERT INTO blobs (sha256, size) VALUES (${"a".repeat(64)}, 10)`);
      await t.db.execute(sql`INSERT INTO blobs (sha256, size, head_sha256) VALUES (${"b".repeat(64)}, 10, ${"c".repeat(64)})`);
      const found = rowsOf<{ sha256: string }>(
        await t.db.execute(sql`SELECT sha256 FROM blobs WHERE size = 10 AND (head_sha256 = ${"c".repeat(64)} OR head_sha256 IS NULL) ORDER BY sha256`),
      );
      expect(found.map((r) => r.sha256)).toEqual(["a".repeat(64), "b".repeat(64)]);
    } finally {
      await t.close();
    }
  }, 60_000);
});
