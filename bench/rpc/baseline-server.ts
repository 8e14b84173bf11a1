// The baseline for `bench rpc`: a bare Connect-ES server (node:http2 +
// connectNodeAdapter; Connect, gRPC and gRPC-Web) implementing only
// modelreg.v1.VersionService/GetVersion, by uid, as one primary-key SELECT
// through postgres.js on the same database and table the real server uses.
// No interceptors, validation, joins or etag hashing: the protocol and
// database costs without modelreg's layers.
// Env: PORT, HOST (127.0.0.1), DATABASE_URL, DATABASE_POOL_SIZE (10),
// BENCH_MODEL (resource name of the model, to fill Version.name/model).
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { GetVersionResponseSchema, VersionService } from "@modelreg/proto";
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
const model = process.env.BENCH_MODEL ?? "workspaces/default/models/unknown";
const sql = postgres(url, { max: Number(process.env.DATABASE_POOL_SIZE ?? 10), onnotice: () => {} });

const handler = connectNodeAdapter({
  routes(router) {
    router.service(VersionService, {
      async getVersion(req) {
        if (req.ref.case !== "uid") throw new ConnectError("baseline: GetVersion by uid only", Code.InvalidArgument);
        const [row] = await sql<VersionRow[]>`SELECT * FROM versions WHERE id = ${req.ref.value}`;
        if (!row) throw new ConnectError(`version ${req.ref.value} not found`, Code.NotFound);
        return create(GetVersionResponseSchema, {
          version: {
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
          },
        });
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
