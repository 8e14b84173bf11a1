// The legitimate caller of the attack suites, in a process of its own so that
// the attack the test process makes does not slow the caller's own event
// loop: GetVersion (Connect JSON) over and over, one call at a time, until
// stdin ends; one line per call on stdout: {"ms": 12.3, "ok": true}.
//
//   node probe-process.mjs <server url> <version name> h2|h1-fresh
//
// h2: every call on one HTTP/2 connection (a new one if the server closed it);
// h1-fresh: every call on a new HTTP/1.1 connection.
import * as http from "node:http";
import * as http2 from "node:http2";

const [url, name, mode] = process.argv.slice(2);
const path = "/modelreg.v1.VersionService/GetVersion";
const body = JSON.stringify({ name });
const headers = { "content-type": "application/json", authorization: `Bearer ${process.env.MODELREG_ACCESS_KEY}` };
let stopped = false;
process.stdin.resume();
process.stdin.on("end", () => (stopped = true));

let session;
function viaHttp2() {
  if (!session || session.closed || session.destroyed) {
    session = http2.connect(url);
    session.on("error", () => {});
  }
  return new Promise((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    let status = 0;
    stream.on("response", (h) => (status = h[":status"]));
    stream.on("error", () => resolve(false));
    stream.on("close", () => resolve(status === 200));
    stream.resume();
    stream.end(body);
  });
}

function viaFreshHttp1() {
  return new Promise((resolve) => {
    const req = http.request(`${url}${path}`, { method: "POST", agent: false, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200));
      res.on("error", () => resolve(false));
    });
    req.on("error", () => resolve(false));
    req.end(body);
  });
}

const call = mode === "h1-fresh" ? viaFreshHttp1 : viaHttp2;
for (let i = 0; i < 100_000 && !stopped; i++) {
  const started = performance.now();
  const ok = await call();
  process.stdout.write(`${JSON.stringify({ ms: Math.round((performance.now() - started) * 10) / 10, ok })}\n`);
}
session?.close();
