// A loopback TCP proxy in front of PostgreSQL that can fail the way a
// database outage does, for one server process: "refuse" (the database
// process is gone: open connections are reset, new ones refused) and
// "blackhole" (the host stops answering: open connections are reset, new
// ones are accepted by the network and never answered).
import * as net from "node:net";

export type OutageMode = "forward" | "refuse" | "blackhole";

export interface OutageProxy {
  port: number;
  /** Switches the mode; open connections are reset unless it is "forward". */
  set(mode: OutageMode): Promise<void>;
  close(): Promise<void>;
}

export async function startOutageProxy(target: { host: string; port: number }): Promise<OutageProxy> {
  const sockets = new Set<net.Socket>();
  let mode: OutageMode = "forward";
  let port = 0;
  let server: net.Server | undefined;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  };
  const onConnection = (client: net.Socket) => {
    track(client);
    client.on("error", () => client.destroy());
    // A blackholed connection: accepted, never forwarded, never answered.
    if (mode === "blackhole") return;
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    for (const s of [client, upstream])
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    client.pipe(upstream).pipe(client);
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer(onConnection);
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  const resetAll = () => {
    for (const s of sockets) s.resetAndDestroy();
    sockets.clear();
  };
  await listen();
  return {
    port,
    async set(next) {
      if (next !== "forward") resetAll();
      mode = next;
      if (next === "refuse") await stopListening();
      else if (!server) await listen();
    },
    async close() {
      resetAll();
      await stopListening();
    },
  };
}

/** Where a PostgreSQL URL points: what a proxy in front of it forwards to. */
export function databaseTarget(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432) };
}

/** `url` with its host and port replaced by a proxy's on loopback. */
export function throughProxy(url: string, proxyPort: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(proxyPort);
  return u.toString();
}
