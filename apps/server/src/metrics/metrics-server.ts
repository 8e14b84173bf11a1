// The metrics listener: plain HTTP/1.1 on its own port (METRICS_PORT), so
// it is reachable by Prometheus inside the network without being exposed
// with the API, and needs no access key. GET /metrics answers the text
// exposition format; nothing else is served.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./index.js";
import type { Logger } from "../logger.js";

export interface MetricsServer {
  readonly port: number;
  /** e.g. http://127.0.0.1:9464/metrics */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `metrics` (with the process metrics added) on their own port. */
export async function serveMetrics(metrics: Metrics, options: { port: number; host?: string; logger: Logger }): Promise<MetricsServer> {
  metrics.collectProcessMetrics();
  const { registry } = metrics;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/metrics") return answer(res, 404, "text/plain; charset=utf-8", "not found: metrics are at /metrics\n");
    if (req.method !== "GET" && req.method !== "HEAD") return answer(res, 405, "text/plain; charset=utf-8", `use GET on /metrics, not ${req.method}\n`);
    registry.metrics().then(
      (text) => answer(res, 200, registry.contentType, text, req.method === "HEAD"),
      (err: unknown) => {
        options.logger.error({ err }, "metrics: could not collect");
        answer(res, 500, "text/plain; charset=utf-8", "could not collect the metrics; see the server's log\n");
      },
    );
  });
  // Scrapes are short: idle keep-alive connections do not hold a shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = !options.host || options.host === "::" || options.host === "0.0.0.0" ? "127.0.0.1" : options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    port,
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(res: http.ServerResponse, status: number, type: string, body: string, headOnly = false): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(headOnly ? undefined : body);
}
