// The signed byte routes (PUT /v1/uploads/..., GET /v1/blobs/...): bytes
// received and sent as they move (an aborted transfer counts what moved),
// and requests by outcome.
import { Counter, type Registry } from "prom-client";
import type { ByteRouteObserver } from "../http/file-routes.js";

export function createByteMetrics(registry: Registry): ByteRouteObserver {
  const received = new Counter({ name: "modelreg_http_received_bytes_total", help: "Bytes received in upload bodies (PUT on signed upload URLs)", labelNames: ["route"], registers: [registry] });
  const sent = new Counter({ name: "modelreg_http_sent_bytes_total", help: "Bytes of content sent by downloads (GET on signed download URLs)", labelNames: ["route"], registers: [registry] });
  const requests = new Counter({
    name: "modelreg_http_requests_total",
    help: "Requests on the signed byte routes, by route and outcome code (canceled: the client went away)",
    labelNames: ["route", "code"],
    registers: [registry],
  });
  // Present from the start, so a rate() over them has a first sample.
  received.inc({ route: "upload" }, 0);
  sent.inc({ route: "download" }, 0);
  return {
    bytes: (route, n) => (route === "upload" ? received : sent).inc({ route }, n),
    finished: (route, code) => requests.inc({ route, code }),
  };
}
