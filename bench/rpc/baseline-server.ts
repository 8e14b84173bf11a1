// The baseline for `bench rpc`: a bare Connect-ES server (node:http2 +
// connectNodeAdapter; Connect, gRPC and gRPC-Web) over postgres.js, on the
// same database and tables the real server uses. It implements two methods
// of modelreg.v1.VersionService:
//   GetVersion, by name only: the statement modelreg runs for it (the
//     version joined with its model by workspace and name, its aliases as
//     a JSON array), one round trip.
//   CreateVersion, auto-numbered only (empty version_id): the same single
//     statement modelreg runs (apps/server/src/domain/versions/create-sql.ts,
//     prepared there as modelreg_create_numbered_version_v3): lock the model
//     row, take its next number, insert the version, its metric rows and the
//     audit row, move the model's counters; one round trip, its own
//     transaction. The audit row has the values modelreg writes for the
//     bench's admin key, with a new request id per call as modelreg makes.
// No interceptors, auth, validation, joins or etag hashing: the protocol and
// database costs without modelreg's layers.
// Env: PORT, HOST (127.0.0.1), DATABASE_URL, DATABASE_POOL_SIZE (10),
// BENCH_MODEL (resource name of the model GetVersion reads, for Version.name/model).
import { randomUUID } from "node:crypto";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { CreateVersionResponseSchema, GetVersionResponseSchema, type VersionSchema, VersionService } from "@modelreg/proto";
import postgres from "postgres";

interface VersionRow {
  id: string;
  model_id: string;
  version: string;
  description: string;
  labels: Record<string, string>;
  revision: number;
  create_time: Date;
  update_time: Date;
}

const url = process.env.DATABASE_URL;
if (!url) throw new Error("baseline-server needs DATABASE_URL");
const benchModel = process.env.BENCH_MODEL ?? "workspaces/default/models/unknown";
const sql = postgres(url, { max: Number(process.env.DATABASE_POOL_SIZE ?? 10), onnotice: () => {} });
// JSON values go as the text given, as Drizzle sets up postgres.js for modelreg.
sql.options.serializers[114] = (x: unknown) => x;
sql.options.serializers[3802] = (x: unknown) => x;

/** What modelreg stores for a version created with no metadata (splitMetadata of an empty one). */
const EMPTY_METADATA = JSON.stringify({ readme: "", documents: [], dependencies: [], installTypes: [], initialConfig: "" });
const CREATE_METHOD = "modelreg.v1.VersionService/CreateVersion";
const PARENT = /^workspaces\/([^/]+)\/models\/([^/]+)$/;
const VERSION_NAME = /^workspaces\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)$/;

function toVersion(row: VersionRow, model: string): MessageInitShape<typeof VersionSchema> {
  return {
    name: `${model}/versions/${row.version}`,
    uid: row.id,
    version: row.version,
    description: row.description,
    labels: row.labels,
    createTime: timestampFromDate(row.create_time),
    updateTime: timestampFromDate(row.update_time),
    etag: `${row.id.slice(0, 12)}${String(row.revision).padStart(4, "0")}`, // same size, no hashing
    model,
    modelUid: row.model_id,
  };
}

const handler = connectNodeAdapter({
  routes(router) {
    router.service(VersionService, {
      async getVersion(req) {
        // By name, with the statement modelreg runs for it (versions joined
        // with their model, the aliases as a JSON array): the same database
        // work, without modelreg's layers.
        const n = req.ref.case === "name" ? VERSION_NAME.exec(req.ref.value) : null;
        if (!n) throw new ConnectError("baseline: GetVersion by workspaces/{w}/models/{m}/versions/{v} only", Code.InvalidArgument);
        const [, workspace, model, version] = n;
        const [row] = await sql<(VersionRow & { aliases: string[] })[]>`
          SELECT v.*, m.workspace AS model_workspace, m.name AS model_name,
                 (SELECT coalesce(jsonb_agg(a.alias ORDER BY a.alias), '[]'::jsonb) FROM model_aliases a WHERE a.version_id = v.id) AS aliases
          FROM versions v INNER JOIN models m ON v.model_id = m.id
          WHERE m.workspace = ${workspace!} AND m.workspace = ${workspace!} AND m.name_key = ${model!.toLowerCase()} AND v.version = ${version!}`;
        if (!row) throw new ConnectError(`version ${req.ref.value} not found`, Code.NotFound);
        return create(GetVersionResponseSchema, { version: toVersion(row, benchModel) });
      },

      async createVersion(req) {
        const p = PARENT.exec(req.parent);
        if (!p || req.versionId !== "") throw new ConnectError("baseline: auto-numbered CreateVersion of workspaces/*/models/* only", Code.InvalidArgument);
        const [workspace, model] = [p[1]!, p[2]!];
        const v = req.version;
        // The statement of create-sql.ts with its placeholders in the same
        // order; postgres.js prepares it once per connection, as modelreg does.
        const [row] = await sql<(VersionRow & { workspace: string; model_name: string })[]>`
          WITH m AS (
            SELECT id, workspace, name, next_auto_prefix, next_auto_key_prefix, next_auto_patch
            FROM "models"
            WHERE workspace = ${workspace} AND workspace = ${workspace} AND name_key = ${model.toLowerCase()}
            FOR UPDATE
          ), v AS (
            INSERT INTO "versions" (model_id, workspace, version, sort_key, description, labels, lifecycle,
              training_algorithm_code, training_algorithm_version, source_location, source_task, source_job_id, source_job_version, data_version, source_type,
              framework, runtime, algorithm, metrics, metadata, request_id)
            SELECT m.id, m.workspace,
                   m.next_auto_prefix || m.next_auto_patch::text,
                   m.next_auto_key_prefix || chr(64 + length(m.next_auto_patch::text)) || m.next_auto_patch::text || '~',
                   ${v?.description ?? ""}, ${JSON.stringify(v?.labels ?? {})}::jsonb, ${1}::smallint,
                   ${""}, ${""}, ${""}, ${""},
                   ${""}, ${""}, ${""}, ${""},
                   ${0}::smallint, ${""}, ${""},
                   ${"{}"}::jsonb, ${EMPTY_METADATA}::jsonb, nullif(${req.requestId}::text, '')
            FROM m
            RETURNING *
          ), mt AS (
            INSERT INTO "version_metrics" (version_id, model_id, workspace, name, value, seq)
            SELECT v.id, v.model_id, v.workspace, e.key, e.value::double precision, v.seq FROM v, jsonb_each_text(v.metrics) e
          ), a AS (
            INSERT INTO "audit_events" (workspace, "user", access_key_id, method, resource, code, request_id)
            SELECT ${workspace}, ${"admin"}, ${"bench-admin"}, ${CREATE_METHOD}, ${req.parent}, ${"ok"}, ${randomUUID()}
            FROM v WHERE ${true}::boolean
          ), u AS (
            UPDATE "models"
            SET version_count = "models"."version_count" + 1,
                latest_version = v.version,
                next_auto_patch = "models"."next_auto_patch" + 1
            FROM v WHERE "models"."id" = v.model_id
          )
          SELECT v.*, m.name AS model_name FROM v, m`;
        if (!row) throw new ConnectError(`model ${req.parent} not found`, Code.NotFound);
        return create(CreateVersionResponseSchema, { version: toVersion(row, `workspaces/${row.workspace}/models/${row.model_name}`) });
      },
    });
  },
});

const server = http2.createServer(handler);
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  const address = `http://127.0.0.1:${port}`;
  process.stdout.write(`${JSON.stringify({ level: 30, url: address, msg: `baseline listening on ${address}` })}\n`);
});

const stop = () => {
  server.close();
  void sql.end({ timeout: 1 }).finally(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
