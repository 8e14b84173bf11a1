// A loopback TCP proxy for tests of resumption: forwards every connection
// to `target`, and on request breaks the first connection that moves more
// than N bytes in one direction, by cutting it (both sockets destroyed, as
// when a network drops) or by stalling it (open, but nothing forwarded any
// more, as when a peer hangs). Counts the bytes it forwarded.
import * as net from "node:net";

export type Direction = "up" | "down";

export interface Fault {
  /** "up": client to server (uploads); "down": server to client (downloads). */
  direction: Direction;
  /** Bytes one connection forwards in that direction before the fault. */
  afterBytes: number;
  mode: "cut" | "stall";
  /** How many connections it hits (default 1). */
  times?: number;
  /** Only connections of this protocol (default any): HTTP/2 (prior knowledge) or HTTP/1.1. */
  protocol?: "http1" | "http2";
}

const H2_PREFACE = "PRI * HTTP/2.0";

export interface FlakyProxy {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string;
  /** Bytes forwarded, over every connection. */
  readonly bytes: Record<Direction, number>;
  /** Faults that happened so far. */
  readonly faults: number;
  /** Arms one fault for the next connection that crosses the threshold. */
  arm(fault: Fault): void;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  const { hostname, port } = new URL(target);
  const bytes = { up: 0, down: 0 };
  let armed: Fault | undefined;
  let faults = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    const counted = { up: 0, down: 0 };
    let stalled = false;
    let protocol: "http1" | "http2" | undefined;
    const forward = (from: net.Socket, to: net.Socket, direction: Direction) => {
      from.on("data", (chunk: Buffer) => {
        if (stalled) return;
        if (direction === "up" && protocol === undefined) protocol = chunk.subarray(0, H2_PREFACE.length).toString("latin1") === H2_PREFACE ? "http2" : "http1";
        const fault = armed;
        if (fault && fault.direction === direction && (!fault.protocol || fault.protocol === protocol) && counted[direction] + chunk.length > fault.afterBytes) {
          const left = (fault.times ?? 1) - 1;
          armed = left > 0 ? { ...fault, times: left } : undefined;
          faults++;
          const keep = fault.afterBytes - counted[direction];
          if (keep > 0) {
            to.write(chunk.subarray(0, keep));
            counted[direction] += keep;
            bytes[direction] += keep;
          }
          if (fault.mode === "cut") {
            client.destroy();
            upstream.destroy();
          } else stalled = true;
          return;
        }
        counted[direction] += chunk.length;
        bytes[direction] += chunk.length;
        if (!to.write(chunk)) {
          from.pause();
          to.once("drain", () => from.resume());
        }
      });
    };
    forward(client, upstream, "up");
    forward(upstream, client, "down");
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    bytes,
    get faults() {
      return faults;
    },
    arm(fault) {
      armed = fault;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
