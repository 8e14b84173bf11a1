// clientWentAway on real loopback connections, HTTP/1.1 and HTTP/2: a
// client that leaves before the answer is complete went away, whether or
// not the server had bytes waiting to go out when it left; an answer the
// server ended did not.
import { once } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { clientWentAway } from "./byte-call.js";
import type { Req, Res } from "./file-routes.js";

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** A server whose one handler writes a first chunk, then ends the answer (end) or leaves it open; says clientWentAway once the response closed. */
async function serveOne(version: 1 | 2, end: boolean): Promise<{ port: number; verdict: Promise<boolean> }> {
  let verdict: (wentAway: boolean) => void = () => {};
  const said = new Promise<boolean>((resolve) => (verdict = resolve));
  const handler = (req: Req, res: Res) => {
    res.on("close", () => verdict(clientWentAway(req, res)));
    // The chunk is small: it leaves at once, so nothing is waiting to be written when the client goes.
    (res as http.ServerResponse).write("first");
    if (end) res.end("last");
  };
  const server = version === 2 ? http2.createServer(handler) : http.createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(() => server.close());
  return { port: (server.address() as AddressInfo).port, verdict: said };
}

it("HTTP/2: a stream reset after the server's bytes all went out is a client gone", async () => {
  const { port, verdict } = await serveOne(2, false);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  closers.push(() => session.destroy());
  const req = session.request({ ":path": "/" });
  await once(req, "data");
  req.close(http2.constants.NGHTTP2_CANCEL);
  expect(await verdict).toBe(true);
});

it("HTTP/2: an answer the server ended is no client gone", async () => {
  const { port, verdict } = await serveOne(2, true);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  closers.push(() => session.destroy());
  const req = session.request({ ":path": "/" });
  req.resume();
  await once(req, "end");
  expect(await verdict).toBe(false);
});

it("HTTP/1.1: a connection dropped after the server's bytes all went out is a client gone", async () => {
  const { port, verdict } = await serveOne(1, false);
  const req = http.get(`http://127.0.0.1:${port}/`);
  req.on("error", () => {});
  const [res] = (await once(req, "response")) as [http.IncomingMessage];
  await once(res, "data");
  res.socket.destroy();
  expect(await verdict).toBe(true);
});

it("HTTP/1.1: an answer the server ended is no client gone", async () => {
  const { port, verdict } = await serveOne(1, true);
  const req = http.get(`http://127.0.0.1:${port}/`, { agent: false });
  const [res] = (await once(req, "response")) as [http.IncomingMessage];
  res.resume();
  await once(res, "end");
  expect(await verdict).toBe(false);
});
