// Slow HTTP/1.1 clients (slowloris): connections that send their request
// headers a byte at a time, or never finish them, must not hold the server.
// A header timeout closes them, and limits on connections (per peer and in
// total) keep any one machine from taking every file descriptor, while a
// legitimate caller (GetVersion on new connections from another address)
// keeps being answered. Attackers connect from 127.0.0.2-4, the prober from
// 127.0.0.1: all loopback, distinct peers to the server.
import { spawnSync } from "node:child_process";
import * as net from "node:net";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createRegistryClient } from "@modelreg/sdk";
import { createEmptyPostgres } from "@modelreg/db/testing";
import { afterEach, expect, it } from "vitest";
import { printReport, startProbing } from "./support/prober.js";
import { REPO_ROOT, SERVER_ARGS, startServer, type ServerProcess } from "./support/server.js";
import { sleep, until } from "./support/until.js";

let server: ServerProcess | undefined;
let db: Awaited<ReturnType<typeof createEmptyPostgres>> | undefined;
const attackers: net.Socket[] = [];
afterEach(async () => {
  for (const s of attackers.splice(0)) s.destroy();
  await server?.stop();
  server = undefined;
  await db?.drop();
  db = undefined;
});


interface Attacker {
  socket: net.Socket;
  received: string;
  closed: boolean;
}

/** A connection from `localAddress` that sends `head` and then `trickle`, one byte every `everyMs`, until the server closes it. */
function slowClient(port: number, localAddress: string, head: string, trickle: string, everyMs: number): Attacker {
  const socket = net.connect({ port, host: "127.0.0.1", localAddress });
  attackers.push(socket);
  const a: Attacker = { socket, received: "", closed: false };
  socket.on("error", () => {});
  socket.on("data", (d: Buffer) => (a.received += d.toString("latin1")));
  socket.on("close", () => (a.closed = true));
  socket.on("connect", async () => {
    if (head) socket.write(head);
    for (const byte of trickle) {
      await sleep(everyMs);
      if (a.closed || !socket.writable) return;
      socket.write(byte);
    }
  });
  return a;
}

async function setUp(env: Record<string, string>) {
  // On PostgreSQL when DATABASE_URL is set, else the embedded database: the limits are the same on both.
  db = process.env.DATABASE_URL ? await createEmptyPostgres() : undefined;
  server = await startServer({ databaseUrl: db?.url, env });
  const admin = createRegistryClient({ baseUrl: server.url });
  await admin.models.createModel({ parent: "workspaces/default", modelId: "target" });
  const { version } = await admin.versions.createVersion({ parent: "workspaces/default/models/target" });
  return { server, name: version!.name };
}

// A request line, then headers that never end: one more byte every 100 ms, 4,000 bytes at most.
const SLOW_HEAD = "GET /modelreg.v1.VersionService/GetVersion HTTP/1.1\r\nHost: x\r\nX-Slow: ";
const SLOW_TRICKLE = "a".repeat(4000);

it("closes connections whose headers arrive slowly (408) or whose HTTP/2 preface trickles in, while GetVersion on new connections keeps answering", async () => {
  // 3 s: short for the test, long enough that a stalled event loop on a busy machine does not cut the prober's own requests.
  const { server, name } = await setUp({ HEADERS_TIMEOUT_MS: "3000", MAX_CONNECTIONS_PER_PEER: "128" });
  // Every probe on a new HTTP/1.1 connection: accepting connections must keep working.
  const prober = startProbing(server.url, name, "h1-fresh");

  const slow = Array.from({ length: 300 }, () => slowClient(server.port, "127.0.0.2", SLOW_HEAD, SLOW_TRICKLE, 100));
  const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  // 400 ms a byte: the preface would be whole after 9.6 s, three times the deadline.
  const tricklers = Array.from({ length: 20 }, () => slowClient(server.port, "127.0.0.3", "", preface, 400));
  await until(() => [...slow, ...tricklers].every((a) => a.closed), "every slow connection closed by the server");
  const report = await prober.stop();
  printReport("300 slow-header connections (HTTP/1.1, per-peer limit 128) and 20 trickled HTTP/2 prefaces", report);

  const timedOut = slow.filter((a) => a.received.startsWith("HTTP/1.1 408"));
  const refused = slow.filter((a) => a.received === "");
  // Those the server took were answered 408 at the header timeout; the rest were refused at once (per-peer limit).
  expect(timedOut.length).toBeGreaterThan(0);
  expect(refused.length).toBeGreaterThan(0);
  expect(timedOut.length + refused.length).toBe(slow.length);
  expect(report.failures).toBe(0);
  expect(report.calls).toBeGreaterThan(0);
  expect(report.p99Ms).toBeLessThan(5000); // catches a stall, not a timing target
});

it("refuses connections beyond MAX_CONNECTIONS_PER_PEER and MAX_CONNECTIONS at once, and accepts again when they close", async () => {
  const { server, name } = await setUp({ HEADERS_TIMEOUT_MS: "600000", MAX_CONNECTIONS_PER_PEER: "40", MAX_CONNECTIONS: "100" });
  const fresh = createRegistryClient({ baseUrl: server.url, transport: createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { agent: false } }) });
  // An HTTP/2 connection opened before the attack: it stays usable throughout.
  const early = createRegistryClient({ baseUrl: server.url, transport: createGrpcTransport({ baseUrl: server.url }) });
  await early.versions.getVersion({ ref: { case: "name", value: name } });

  // One peer opens 300 connections and sends half a request on each: 40 are kept, 260 closed at once.
  const prober = startProbing(server.url, name, "h1-fresh");
  const first = Array.from({ length: 300 }, () => slowClient(server.port, "127.0.0.2", SLOW_HEAD, "", 0));
  await until(() => first.filter((a) => a.closed).length >= 260, "260 of 300 connections from one peer closed");
  // The 40 stay open while the prober makes enough calls for a percentile.
  await until(() => prober.calls >= 200, "200 probe calls");
  const report = await prober.stop();
  printReport("300 idle connections from one peer (per-peer limit 40)", report);
  expect(first.filter((a) => a.closed)).toHaveLength(260);
  expect(first.every((a) => a.received === "")).toBe(true);
  expect(report.failures).toBe(0);
  expect(report.p99Ms).toBeLessThan(5000); // catches a stall, not a timing target

  // Two more peers fill the rest of the 100 (one is the early HTTP/2 connection): now everyone's new connections are refused...
  const more = [...Array.from({ length: 40 }, () => slowClient(server.port, "127.0.0.3", SLOW_HEAD, "", 0))];
  await until(() => more.every((a) => a.socket.readyState === "open" || a.closed), "the second peer's connections set up");
  const third = Array.from({ length: 40 }, () => slowClient(server.port, "127.0.0.4", SLOW_HEAD, "", 0));
  await until(() => third.filter((a) => a.closed).length + more.filter((a) => a.closed).length >= 21, "connections over MAX_CONNECTIONS closed");
  const refusedNew = await fresh.versions.getVersion({ ref: { case: "name", value: name } }).then(
    () => "answered",
    () => "refused",
  );
  expect(refusedNew).toBe("refused");
  // ...but the connection that was already open keeps working.
  expect((await early.versions.getVersion({ ref: { case: "name", value: name } })).version!.name).toBe(name);

  // When the attackers go away, new connections are accepted again.
  for (const a of [...first, ...more, ...third]) a.socket.destroy();
  await until(() => [...first, ...more, ...third].every((a) => a.closed), "attackers gone");
  let answered = false;
  for (let i = 0; i < 200 && !answered; i++) {
    answered = await fresh.versions.getVersion({ ref: { case: "name", value: name } }).then(
      () => true,
      () => false,
    );
    if (!answered) await sleep(50);
  }
  expect(answered).toBe(true);
});

it("lists the connection limits with their defaults in --help, and refuses a bad one", () => {
  const help = spawnSync(process.execPath, [...SERVER_ARGS, "--help"], { cwd: REPO_ROOT, encoding: "utf8" });
  for (const [name, value] of [
    ["MAX_CONNECTIONS", "4096"],
    ["MAX_CONNECTIONS_PER_PEER", "128"],
    ["HEADERS_TIMEOUT_MS", "20000"],
    ["REQUEST_BODY_TIMEOUT_MS", "60000"],
    ["HTTP2_MAX_CONCURRENT_STREAMS", "100"],
    ["HTTP2_MAX_SESSION_MEMORY_MB", "10"],
  ])
    expect(help.stdout).toMatch(new RegExp(`\\n  ${name} .*\\(default ${value}\\)\\n`));
  const bad = spawnSync(process.execPath, SERVER_ARGS, { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, MAX_CONNECTIONS_PER_PEER: "0" } });
  expect(bad.status).toBe(2);
  expect(bad.stdout).toContain("MAX_CONNECTIONS_PER_PEER=0 is not valid: expected a whole number from 1 to 1000000");
});
