// Plain-HTTP probes on the main port (HTTP/1.1 and HTTP/2), with no access
// key, for load balancers and orchestrators:
//
//   GET /healthz  200 {"status":"alive"} while the process serves requests
//   GET /readyz   200 {"status":"ready"} when the database is reachable and
//                 migrated; 503 {"status":"not ready","reason":"..."} otherwise
//                 (and while shutting down)
import type { Req, Res } from "../http/file-routes.js";
import type { Readiness } from "./readiness.js";

export const HEALTHZ = "/healthz";
export const READYZ = "/readyz";

/** A handler for the probe paths; returns false for any other request. */
export function createProbeRoutes(readiness: Pick<Readiness, "check">): (req: Req, res: Res) => boolean {
  return (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== HEALTHZ && path !== READYZ) return false;
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) {
      send(res, 405, { status: "error", reason: `use GET or HEAD on ${path}, not ${req.method}` }, false);
      return true;
    }
    if (path === HEALTHZ) {
      send(res, 200, { status: "alive" }, head);
      return true;
    }
    readiness.check().then(
      (state) => send(res, state.ready ? 200 : 503, state.ready ? { status: "ready" } : { status: "not ready", reason: state.reason }, head),
      () => send(res, 503, { status: "not ready", reason: "the readiness check failed" }, head),
    );
    return true;
  };
}

function send(res: Res, status: number, body: Record<string, string>, head: boolean): void {
  const text = `${JSON.stringify(body)}\n`;
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.setHeader("cache-control", "no-store");
  if (status === 405) res.setHeader("allow", "GET, HEAD");
  if (head) res.end();
  else res.end(text);
}
