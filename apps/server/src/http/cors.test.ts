// CORS_ORIGINS: how it is read, and what a real server answers browsers
// of allowed and other origins (preflights, RPC answers and errors), over
// HTTP/1.1 and HTTP/2. The browser's own side is test/browser.test.ts.
import * as http2 from "node:http2";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { describe, expect, it, onTestFinished } from "vitest";
import { corsOriginsOf } from "../config.js";
import { createHealthService, Health } from "../grpc/health.js";
import { request } from "../testing/http-request.js";
import { ALLOWED_HEADERS, type CorsOrigins, EXPOSED_HEADERS, withCors } from "./cors.js";
import { serve } from "./serve.js";

const PAGE = "http://127.0.0.1:5173";
const OTHER = "https://evil.example";

async function start(origins: CorsOrigins | undefined) {
  const health = createHealthService();
  const routes = (router: ConnectRouter) => router.service(Health, health.impl);
  const server = await serve(withCors(connectNodeAdapter({ routes }), origins), { port: 0, host: "127.0.0.1" });
  onTestFinished(() => server.close(1000));
  return server;
}

const CHECK = "/grpc.health.v1.Health/Check";
const preflight = (origin: string, headers = "authorization,content-type,connect-protocol-version") => ({
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": headers },
});
const post = (origin: string | undefined, body = "{}") => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(origin ? { origin } : {}) },
  body: Buffer.from(body),
});
const corsHeaders = (headers: Record<string, unknown>) => Object.keys(headers).filter((h) => h.startsWith("access-control-"));

describe("CORS_ORIGINS", () => {
  it("is off unless set, and takes exact origins or *", () => {
    expect(corsOriginsOf(undefined)).toBeUndefined();
    expect(corsOriginsOf("  ")).toBeUndefined();
    expect(corsOriginsOf("*")).toBe("*");
    expect(corsOriginsOf(" https://app.example.com , http://localhost:5173,https://app.example.com")).toEqual(["https://app.example.com", "http://localhost:5173"]);
  });

  it("refuses what no browser sends as an origin, saying what to write", () => {
    expect(() => corsOriginsOf("https://app.example.com/")).toThrow(
      "CORS_ORIGINS entry https://app.example.com/ is not valid: browsers send the origin as https://app.example.com (scheme and host in lowercase, no default port, no path or trailing slash); write that",
    );
    expect(() => corsOriginsOf("https://App.example.com:443")).toThrow("browsers send the origin as https://app.example.com");
    expect(() => corsOriginsOf("app.example.com")).toThrow("CORS_ORIGINS entry app.example.com is not valid: expected an origin http(s)://host[:port], e.g. https://app.example.com");
    expect(() => corsOriginsOf("null")).toThrow("expected an origin http(s)://host[:port]");
    expect(() => corsOriginsOf("https://a.example,*")).toThrow("* allows every origin and stands alone, not in a list");
    expect(() => corsOriginsOf("https://a.example,,https://b.example")).toThrow("it has an empty entry");
  });
});

describe("withCors", () => {
  it("answers an allowed origin's preflight with 204 and what it may send, Authorization and the byte routes' headers among them", async () => {
    const server = await start([PAGE]);
    const res = await request(`${server.url}${CHECK}`, preflight(PAGE));
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe(PAGE);
    expect(res.headers.vary).toContain("Origin");
    expect(res.headers["access-control-allow-methods"]?.split(", ")).toEqual(expect.arrayContaining(["GET", "HEAD", "POST", "PUT"]));
    const allowed = res.headers["access-control-allow-headers"]?.split(", ");
    expect(allowed).toEqual(expect.arrayContaining(["authorization", "content-type", "connect-protocol-version", "connect-timeout-ms", "x-grpc-web", "x-user-agent", "grpc-timeout"]));
    expect(allowed).toEqual(expect.arrayContaining(["content-range", "range", "if-range", "if-none-match"]));
    expect(res.headers["access-control-max-age"]).toBe("7200");
    expect(res.headers["access-control-allow-credentials"]).toBeUndefined();
    expect(res.body.length).toBe(0);
  });

  it("marks an allowed origin's answers, errors too, with the headers a page may read", async () => {
    const server = await start([PAGE]);
    const ok = await request(`${server.url}${CHECK}`, post(PAGE));
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body.toString())).toEqual({ status: "SERVING" });
    expect(ok.headers["access-control-allow-origin"]).toBe(PAGE);
    const exposed = ok.headers["access-control-expose-headers"]?.split(", ");
    expect(exposed).toEqual(expect.arrayContaining(["grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id"]));
    expect(exposed).toEqual(expect.arrayContaining(["content-range", "accept-ranges", "etag", "repr-digest", "content-disposition", "content-length"]));
    const bad = await request(`${server.url}${CHECK}`, post(PAGE, '{"service": "nope"}'));
    expect(bad.status).toBe(404);
    expect(bad.headers["access-control-allow-origin"]).toBe(PAGE);
    expect(bad.headers["access-control-expose-headers"]).toBe(EXPOSED_HEADERS.join(", "));
  });

  it("refuses another origin's preflight with 403 and a message, and adds nothing to its plain requests", async () => {
    const server = await start([PAGE]);
    const refused = await request(`${server.url}${CHECK}`, preflight(OTHER));
    expect(refused.status).toBe(403);
    expect(corsHeaders(refused.headers)).toEqual([]);
    expect(JSON.parse(refused.body.toString())).toEqual({
      code: "permission_denied",
      message: `origin ${OTHER} may not call this server from a browser: it is not in the server's CORS_ORIGINS`,
    });
    const plain = await request(`${server.url}${CHECK}`, post(OTHER));
    expect(plain.status).toBe(200);
    expect(corsHeaders(plain.headers)).toEqual([]);
  });

  it("allows every origin with * (no credentials, so * is sent as it is)", async () => {
    const server = await start("*");
    const pre = await request(`${server.url}${CHECK}`, preflight(OTHER));
    expect(pre.status).toBe(204);
    expect(pre.headers["access-control-allow-origin"]).toBe("*");
    const res = await request(`${server.url}${CHECK}`, post(OTHER));
    expect(res.headers["access-control-allow-origin"]).toBe("*");
  });

  it("adds nothing when CORS is off or the request has no Origin; OPTIONS is then no preflight", async () => {
    const off = await start(undefined);
    for (const init of [preflight(PAGE), post(PAGE)]) {
      const res = await request(`${off.url}${CHECK}`, init);
      expect(corsHeaders(res.headers)).toEqual([]);
      expect(res.status).not.toBe(204);
    }
    const on = await start([PAGE]);
    const res = await request(`${on.url}${CHECK}`, post(undefined));
    expect(res.status).toBe(200);
    expect(corsHeaders(res.headers)).toEqual([]);
    expect(res.headers.vary).toBeUndefined();
  });

  it("works over HTTP/2 the same (answers written by Connect keep the headers)", async () => {
    const server = await start([PAGE]);
    const session = http2.connect(server.url);
    onTestFinished(() => void session.close());
    const send = (headers: http2.OutgoingHttpHeaders, body?: string) =>
      new Promise<{ headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const stream = session.request({ ":path": CHECK, ...headers });
        let text = "";
        let head: http2.IncomingHttpHeaders = {};
        stream.on("response", (h) => (head = h));
        stream.setEncoding("utf8").on("data", (c: string) => (text += c));
        stream.on("end", () => resolve({ headers: head, body: text }));
        stream.on("error", reject);
        stream.end(body);
      });
    const pre = await send({ ":method": "OPTIONS", ...preflight(PAGE).headers });
    expect(pre.headers[":status"]).toBe(204);
    expect(pre.headers["access-control-allow-headers"]).toBe(ALLOWED_HEADERS.join(", "));
    const res = await send({ ":method": "POST", "content-type": "application/json", origin: PAGE }, "{}");
    expect(res.headers[":status"]).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe(PAGE);
    expect(res.headers["access-control-expose-headers"]).toBe(EXPOSED_HEADERS.join(", "));
  });
});
