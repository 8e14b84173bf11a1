// The cases of `bench search`, each twice: through modelreg (the SDK over
// Connect, HTTP/2) and as hand-written SQL through postgres.js on the same
// database (the baseline). Every call resolves with the resource names it
// returned, so both sides can be checked to answer alike.
import type { RegistryClient } from "@modelreg/sdk";
import type { Sql } from "postgres";
import { WORKSPACE } from "./load.js";

export const PAGE_SIZE = 100;
export const FAR_PAGE = 50;
export const DATASET = "2026-10";
export const FILTER = `labels.dataset = "${DATASET}"`;
export const ORDER_BY = "metrics.f1 desc";
const CONTAINS = { dataset: DATASET };
const ACROSS = `workspaces/${WORKSPACE}/models/-`;

/** One request of a case: which page (a token / keyset position) of which parent. */
export interface Call {
  /** modelreg: the ListVersions page token, or the version name for GetVersion. */
  modelreg: string;
  /** Raw SQL: the keyset position after the previous page, or the version uid / model id. */
  raw: RawKey | undefined;
  /** Per-model case: the model's id and its uid (the baseline's key). */
  model?: string;
  modelUid?: string;
}

export type RawKey = { seq: number } | { value: number; seq: number } | { uid: string };

export interface Answer {
  names: string[];
  /** Where the next page starts (modelreg: token; raw: keyset), absent at the end. */
  nextModelreg?: string;
  nextRaw?: RawKey;
}

export interface CaseKind {
  /** modelreg's call. */
  modelreg(api: RegistryClient, c: Call): Promise<Answer>;
  /** The baseline's statement; `explain` prefixes EXPLAIN (ANALYZE, BUFFERS) and returns its lines as `names`. */
  raw(sql: Sql, c: Call, explain?: boolean): Promise<Answer>;
}

const versionName = (model: string, version: string) => `workspaces/${WORKSPACE}/models/${model}/versions/${version}`;

type VersionRow = { model_name: string; version: string; seq: string; value?: number };

function rawAnswer(rows: VersionRow[], explain: boolean | undefined, next: (r: VersionRow) => RawKey): Answer {
  if (explain) return { names: rows.map((r) => Object.values(r)[0] as string) };
  const page = rows.slice(0, PAGE_SIZE);
  const last = page[page.length - 1];
  return { names: page.map((r) => versionName(r.model_name, r.version)), nextRaw: rows.length > PAGE_SIZE && last ? next(last) : undefined };
}

const explainPrefix = (sql: Sql, explain?: boolean) => (explain ? sql`EXPLAIN (ANALYZE, BUFFERS)` : sql``);

/** a) GetVersion by name; baseline: the primary-key lookup joined to models. */
export const getVersion: CaseKind = {
  async modelreg(api, c) {
    const { version } = await api.versions.getVersion({ ref: { case: "name", value: c.modelreg } });
    return { names: [version!.name] };
  },
  async raw(sql, c, explain) {
    const uid = (c.raw as { uid: string }).uid;
    const rows = await sql<VersionRow[]>`${explainPrefix(sql, explain)}
      SELECT v.*, m.workspace AS model_workspace, m.name AS model_name
      FROM versions v JOIN models m ON m.id = v.model_id
      WHERE v.id = ${uid}`;
    if (explain) return { names: rows.map((r) => Object.values(r)[0] as string) };
    return { names: rows.map((r) => versionName(r.model_name, r.version)) };
  },
};

/**
 * b) Every model of the workspace, the label filter, newest first (the
 * default order across models). Baseline: "seq DESC", read backwards from
 * versions_workspace_seq_idx (workspace, seq).
 */
export const filtered: CaseKind = {
  async modelreg(api, c) {
    const res = await api.versions.listVersions({ parent: ACROSS, pageSize: PAGE_SIZE, filter: FILTER, pageToken: c.modelreg });
    return { names: res.versions.map((v) => v.name), nextModelreg: res.nextPageToken || undefined };
  },
  async raw(sql, c, explain) {
    const after = c.raw as { seq: number } | undefined;
    const rows = await sql<VersionRow[]>`${explainPrefix(sql, explain)}
      SELECT v.*, m.name AS model_name
      FROM versions v JOIN models m ON m.id = v.model_id
      WHERE v.workspace = ${WORKSPACE} AND v.labels @> ${sql.json(CONTAINS)}::jsonb AND v.lifecycle = 1
        ${after ? sql`AND v.seq < ${after.seq}` : sql``}
      ORDER BY v.seq DESC
      LIMIT ${PAGE_SIZE + 1}`;
    return rawAnswer(rows, explain, (r) => ({ seq: Number(r.seq) }));
  },
};

/** c) Every model of the workspace, no filter, by metric f1 descending; baseline: the version_metrics index. */
export const byMetric: CaseKind = {
  async modelreg(api, c) {
    const res = await api.versions.listVersions({ parent: ACROSS, pageSize: PAGE_SIZE, orderBy: ORDER_BY, pageToken: c.modelreg });
    return { names: res.versions.map((v) => v.name), nextModelreg: res.nextPageToken || undefined };
  },
  async raw(sql, c, explain) {
    const after = c.raw as { value: number; seq: number } | undefined;
    const rows = await sql<VersionRow[]>`${explainPrefix(sql, explain)}
      SELECT v.*, m.name AS model_name, vm.value
      FROM version_metrics vm
        JOIN versions v ON v.id = vm.version_id
        JOIN models m ON m.id = v.model_id
      WHERE vm.workspace = ${WORKSPACE} AND vm.name = 'f1' AND v.lifecycle = 1
        ${after ? sql`AND (vm.value, vm.seq) < (${after.value}::double precision, ${after.seq}::bigint)` : sql``}
      ORDER BY vm.value DESC, vm.seq DESC
      LIMIT ${PAGE_SIZE + 1}`;
    return rawAnswer(rows, explain, (r) => ({ value: r.value!, seq: Number(r.seq) }));
  },
};

/**
 * d) One model: the label filter and the metric ordering, page 1. Hand SQL:
 * one statement on the model's uid (modelreg first looks the model up by
 * name, and also looks for versions without the metric, which come last,
 * when the first phase does not fill the page).
 *
 * Where the time goes (EXPLAIN ANALYZE, BUFFERS, 1,000,000 versions, 1,000
 * per model; `bench search --explain`, ./d1-plans.ts): the server compares
 * labels row by row within a model (`labels ->> 'dataset' = $`), so
 * PostgreSQL takes all 1,000 versions of the model from
 * versions_model_request_key and reads their heap rows to filter them
 * (Heap Blocks: exact=1000; a model's versions are interleaved with every
 * other model's, one per page, and the 608 MB table does not fit in
 * shared_buffers: ~1,000 buffer reads per call), keeps ~83, joins the f1
 * metric by primary key and sorts: raw SQL p50 ~6 ms, p99 ~20 ms. This
 * hand SQL (containment, `labels @>`) is slower still at that size: the
 * BitmapAnd scans the GIN index for all ~84,000 versions with the label
 * (7-11 ms). What changes the plan: a GIN index on (model_id, labels
 * jsonb_path_ops) (btree_gin) with containment within a model too finds
 * the ~83 versions in the index and reads only their pages (77 heap
 * blocks): p50 ~3 ms, p99 ~10 ms, half the PostgreSQL CPU per call.
 */
export const oneModel: CaseKind = {
  async modelreg(api, c) {
    const res = await api.versions.listVersions({
      parent: `workspaces/${WORKSPACE}/models/${c.model}`,
      pageSize: PAGE_SIZE,
      filter: FILTER,
      orderBy: ORDER_BY,
      pageToken: c.modelreg,
    });
    return { names: res.versions.map((v) => v.name), nextModelreg: res.nextPageToken || undefined };
  },
  async raw(sql, c, explain) {
    const rows = await sql<VersionRow[]>`${explainPrefix(sql, explain)}
      SELECT v.*, m.name AS model_name, vm.value
      FROM version_metrics vm
        JOIN versions v ON v.id = vm.version_id
        JOIN models m ON m.id = v.model_id
      WHERE vm.model_id = ${c.modelUid!}::uuid AND v.model_id = ${c.modelUid!}::uuid
        AND vm.name = 'f1' AND v.labels @> ${sql.json(CONTAINS)}::jsonb AND v.lifecycle = 1
      ORDER BY vm.value DESC, vm.seq DESC
      LIMIT ${PAGE_SIZE + 1}`;
    return rawAnswer(rows, explain, (r) => ({ value: r.value!, seq: Number(r.seq) }));
  },
};
