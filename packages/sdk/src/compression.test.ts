// Answers are compressed only when they cross a network: a client of a
// server on this machine asks for none (see createTransport).
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { startTestServer, type TestServer } from "@modelreg/server/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createRegistryClient } from "./client.js";
import { isLoopback } from "./loopback.js";

it("knows which addresses are this machine", () => {
  for (const url of ["http://127.0.0.1:8080", "http://localhost:1", "https://LOCALHOST", "http://[::1]:8080"])
    expect(isLoopback(url), url).toBe(true);
  for (const url of ["http://10.0.0.5:8080", "https://registry.example.com", "http://127.0.0.2", "http://127.0.0.1.example.com", "http://localhost.example.com", "http://api.localhost:8080", "not a url"])
    expect(isLoopback(url), url).toBe(false);
});

it("asks a remote server for gzip and brotli", async () => {
  let asked: string | null = "none seen";
  const capture: Interceptor = () => async (req) => {
    asked = req.header.get("accept-encoding");
    throw new Error("stop here");
  };
  const client = createRegistryClient({ baseUrl: "http://registry.invalid:1", interceptors: [capture] });
  await expect(client.models.listModels({ parent: "workspaces/default" })).rejects.toThrow("stop here");
  expect(asked).toMatch(/gzip/);
  expect(asked).toMatch(/br/);
});

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer("pglite");
  for (const id of ["a", "b", "c", "d"]) await server.client.models.createModel({ parent: "workspaces/default", modelId: id, model: { description: id.repeat(900) } });
}, 60_000);
afterAll(async () => server?.close());

/** A ListModels call (3.6 KB of descriptions, over Connect's 1 KiB threshold): what was asked for, and the answer's encoding. */
async function listEncoding(transportWith?: (capture: Interceptor) => Transport): Promise<{ asked: string | null; encoding: string | null }> {
  const seen = { asked: "none seen" as string | null, encoding: "none seen" as string | null };
  const capture: Interceptor = (next) => async (req) => {
    seen.asked = req.header.get("accept-encoding");
    const res = await next(req);
    seen.encoding = res.header.get("content-encoding");
    return res;
  };
  const client = createRegistryClient({ baseUrl: server.url, ...(transportWith ? { transport: transportWith(capture) } : { interceptors: [capture] }) });
  const { models } = await client.models.listModels({ parent: "workspaces/default" });
  expect(models.map((m) => m.description.length)).toEqual([900, 900, 900, 900]);
  return seen;
}

it("gets uncompressed answers from a server on loopback", async () => {
  expect(await listEncoding()).toEqual({ asked: null, encoding: null });
  // The same call through a transport that asks for gzip gets it: the server does compress.
  const asking = (capture: Interceptor) => createConnectTransport({ baseUrl: server.url, httpVersion: "2", interceptors: [capture] });
  expect(await listEncoding(asking)).toMatchObject({ encoding: "gzip" });
});
