// A loopback TCP proxy for the CLI's resume test: forwards every connection
// to `target` and counts the bytes it sends back; while `hold` is set, the
// plain HTTP/1.1 connections (the GETs of file bytes; the RPCs are HTTP/2)
// get their answer at most `rate` bytes a second and nothing past
// `holdAfter` bytes, so a download is sure to be mid-file, going slowly
// and then not at all, whatever the machine's speed.
import * as net from "node:net";

const H2_PREFACE = "PRI * HTTP/2.0";

export interface ThrottledProxy {
  readonly url: string;
  /** Bytes sent back to clients, over every connection. */
  readonly bytesDown: number;
  /** Throttles (and then holds) the HTTP/1.1 connections opened from now on; `undefined` lets them run free. */
  hold(limit: { rate: number; holdAfter: number } | undefined): void;
  close(): Promise<void>;
}

export async function startThrottledProxy(target: string): Promise<ThrottledProxy> {
  const { hostname, port } = new URL(target);
  let bytesDown = 0;
  let limit: { rate: number; holdAfter: number } | undefined;
  const sockets = new Set<net.Socket>();
  const timers = new Set<ReturnType<typeof setInterval>>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let throttle: { rate: number; holdAfter: number } | undefined;
    let sent = 0;
    const queue: Buffer[] = [];
    client.once("data", (first: Buffer) => {
      const http1 = first.subarray(0, H2_PREFACE.length).toString("latin1") !== H2_PREFACE;
      if (http1 && limit) throttle = limit;
      if (throttle) {
        // Ten times a second, a tenth of the rate, never past holdAfter.
        const timer = setInterval(() => {
          let budget = Math.min(Math.ceil(throttle!.rate / 10), throttle!.holdAfter - sent);
          while (budget > 0 && queue.length > 0) {
            const chunk = queue[0]!;
            const part = chunk.subarray(0, budget);
            if (part.length === chunk.length) queue.shift();
            else queue[0] = chunk.subarray(budget);
            client.write(part);
            sent += part.length;
            bytesDown += part.length;
            budget -= part.length;
          }
          if (queue.length < 16 && upstream.isPaused()) upstream.resume();
        }, 100);
        timers.add(timer);
        client.on("close", () => {
          clearInterval(timer);
          timers.delete(timer);
        });
      }
      upstream.write(first);
      client.pipe(upstream);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (throttle) {
        queue.push(chunk);
        // Backpressure: the server waits while much is queued here.
        if (queue.length > 64) upstream.pause();
        return;
      }
      bytesDown += chunk.length;
      if (!client.write(chunk)) {
        upstream.pause();
        client.once("drain", () => upstream.resume());
      }
    });
    upstream.on("end", () => {
      if (!throttle) client.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    get bytesDown() {
      return bytesDown;
    },
    hold(next) {
      limit = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
