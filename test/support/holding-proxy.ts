// A loopback TCP proxy in front of a server that counts the bytes clients
// send through it and can hold them: after holdAfter(n), it forwards up to
// n bytes (counted from then, over all connections) and then stops reading
// from every client, so a client's upload stands still at a known point
// without any timing. Whatever protocol goes through (HTTP/1.1 PUTs, h2c
// RPCs), a client that goes away takes its server-side connection with it;
// bytes a killed client had sent but the proxy held are still in its socket,
// so a test cuts the connections (cutAll) to make sure they never arrive.
import * as net from "node:net";

export interface HoldingProxy {
  url: string;
  /** Bytes forwarded from clients to the server since the last reset(). */
  readonly up: number;
  /** The same, per connection opened since the last reset(), in the order they opened (for failure messages). */
  readonly perConnection: number[];
  /** Whether the proxy is holding (the limit of holdAfter() reached). */
  readonly holding: boolean;
  /** Forwards `bytes` more bytes from clients, then holds the rest. */
  holdAfter(bytes: number): void;
  /** Stops holding (forwarding what was held) and sets the count to 0. */
  reset(): void;
  /** Cuts every open connection; what they held never reaches the server. */
  cutAll(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  /** Bytes read from the client but not forwarded (held). */
  pending: Buffer[];
  /** Index of this connection's count in `counts`, or -1 when it opened before the last reset(). */
  slot: number;
}

export async function startHoldingProxy(target: { host: string; port: number }): Promise<HoldingProxy> {
  const pairs = new Set<Pair>();
  let up = 0;
  let counts: number[] = [];
  let limit = Number.POSITIVE_INFINITY;
  const holding = () => up >= limit;

  /** Forwards what `pair` holds and reads, up to the limit; pauses the client at the limit. */
  const pump = (pair: Pair) => {
    while (pair.pending.length > 0 && !holding()) {
      const chunk = pair.pending.shift()!;
      const room = limit - up;
      const sent = chunk.length <= room ? chunk : chunk.subarray(0, room);
      if (sent.length < chunk.length) pair.pending.unshift(chunk.subarray(sent.length));
      up += sent.length;
      if (pair.slot >= 0) counts[pair.slot]! += sent.length;
      pair.upstream.write(sent);
    }
    if (holding()) pair.client.pause();
    else pair.client.resume();
  };

  const cutAll = () => {
    for (const pair of pairs) {
      pair.pending = [];
      pair.client.destroy();
      pair.upstream.destroy();
    }
    pairs.clear();
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const pair: Pair = { client, upstream, pending: [], slot: counts.push(0) - 1 };
    pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
    client.on("data", (chunk: Buffer) => {
      pair.pending.push(chunk);
      pump(pair);
    });
    upstream.pipe(client);
    pump(pair);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get up() {
      return up;
    },
    get perConnection() {
      return [...counts];
    },
    get holding() {
      return holding();
    },
    holdAfter(bytes: number) {
      limit = up + bytes;
      for (const pair of pairs) pump(pair);
    },
    reset() {
      up = 0;
      counts = [];
      for (const pair of pairs) pair.slot = -1;
      limit = Number.POSITIVE_INFINITY;
      for (const pair of pairs) pump(pair);
    },
    cutAll,
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
