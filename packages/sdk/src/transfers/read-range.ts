// Reads bytes [start, end) of one file of a READY version, by GET on its
// signed URL with Range (default) or by ReadFile, handing each chunk to
// `sink` in order. After a dropped or stalled connection it asks again from
// the first byte not yet handed over; an expired URL is fetched anew once.
import type { IncomingMessage } from "node:http";
import { finished } from "node:stream/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import type { VersionFile } from "@modelreg/proto";
import { activitySignal, type ActivitySignal } from "./activity.js";
import type { TransferContext } from "./context.js";
import { httpRequest, rangeHeader, resolveUrl, throwHttpError } from "./http.js";
import { type RetryPolicy, withResume } from "./retry.js";
import { abortReason } from "./upload-session.js";

export interface ReadRangeOptions {
  transport: "http" | "stream";
  policy: RetryPolicy;
  signal: AbortSignal | undefined;
  /** A fresh listing of the file (new signed URL), for when the old URL stopped working. */
  relist(): Promise<VersionFile>;
}

/**
 * Takes the next chunk (hashes it, queues it for writing...). It owns the
 * chunk once called; a promise means "wait before the next one"
 * (backpressure), not that the chunk is still being taken.
 */
export type Sink = (chunk: Uint8Array) => Promise<void> | void;

export async function readRange(ctx: TransferContext, version: string, file: VersionFile, start: number, end: number, sink: Sink, options: ReadRangeOptions): Promise<void> {
  let pos = start;
  let current = file;
  // Where the URL was last fetched anew: once more only after progress.
  let relistedAt = -1;
  const deliver = (chunk: Uint8Array): Promise<void> | void => {
    const take = Math.min(chunk.length, end - pos);
    if (take <= 0) return;
    const wait = sink(take === chunk.length ? chunk : chunk.subarray(0, take));
    pos += take;
    return wait;
  };
  await withResume(
    async () => {
      while (pos < end) {
        const act = activitySignal(ctx.idleMs, options.signal);
        try {
          if (options.transport === "stream") await viaStream(ctx, version, current, pos, end, act, deliver);
          else await viaHttp(ctx, current, pos, end, act, deliver);
        } catch (raw) {
          if (act.idle && options.transport === "stream") ctx.dropStreamConnection();
          const err = abortReason(raw, act, options.signal);
          // A signed URL that expired (or was refused): list the file again, once per stretch of progress.
          if (options.transport === "http" && relistedAt < pos && err instanceof ConnectError && (err.code === Code.PermissionDenied || err.code === Code.Unauthenticated)) {
            relistedAt = pos;
            current = await options.relist();
            continue;
          }
          throw err;
        } finally {
          act.done();
        }
        if (pos < end) throw new ConnectError(`${file.path}: the connection ended at byte ${pos} of ${end}`, Code.Unavailable);
      }
    },
    { policy: options.policy, signal: options.signal, progress: () => pos },
  );
}

async function viaHttp(ctx: TransferContext, file: VersionFile, pos: number, end: number, act: ActivitySignal, deliver: Sink): Promise<void> {
  const size = Number(file.sizeBytes);
  const whole = pos === 0 && end === size;
  const res = await httpRequest({
    url: resolveUrl(file.downloadUrl, ctx.baseUrl),
    method: "GET",
    headers: { "accept-encoding": "identity", ...(whole ? {} : { range: rangeHeader(pos, end) }) },
    agents: ctx.agents,
    signal: act.signal,
  });
  const status = res.statusCode ?? 0;
  if (status !== 200 && status !== 206) await throwHttpError(res);
  if (status === 200 && !whole) {
    res.destroy();
    throw new ConnectError(`${file.path}: the server ignored the Range header`, Code.Internal);
  }
  act.touch();
  await drainBody(res, act, deliver);
}

/**
 * Hands every chunk of the response body to `deliver` as it arrives ('data'
 * events: no promise per chunk), pausing the response while `deliver` asks
 * to wait. Resolves at the end of the body; rejects when the connection
 * fails or `deliver` throws (the response is destroyed then).
 */
function drainBody(res: IncomingMessage, act: ActivitySignal, deliver: Sink): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let waiting: Promise<void> | undefined;
    let ended = false;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      res.off("data", onData);
      res.destroy();
      // Settle only after a pending wait, so nothing of this attempt runs on into the next.
      void Promise.resolve(waiting)
        .catch(() => {})
        .then(() => reject(err));
    };
    const onData = (chunk: Buffer) => {
      act.touch();
      let wait: Promise<void> | void;
      try {
        wait = deliver(chunk);
      } catch (err) {
        return fail(err);
      }
      if (!wait) return;
      res.pause();
      const w = wait.then(
        () => {
          if (waiting !== w || failed) return;
          waiting = undefined;
          if (ended) return resolve();
          // The wait was for our disk, not the network: the idle clock starts again.
          act.touch();
          res.resume();
        },
        (err: unknown) => {
          if (waiting === w) waiting = undefined;
          fail(err);
        },
      );
      waiting = w;
    };
    res.on("data", onData);
    finished(res).then(
      () => {
        if (failed) return;
        ended = true;
        if (!waiting) resolve();
      },
      (err: unknown) => fail(err),
    );
  });
}

async function viaStream(ctx: TransferContext, version: string, file: VersionFile, pos: number, end: number, act: ActivitySignal, deliver: Sink): Promise<void> {
  const stream = ctx.streams.readFile(
    { version: { case: "name", value: version }, path: file.path, offset: BigInt(pos), length: BigInt(end - pos) },
    { signal: act.signal, timeoutMs: 0 },
  );
  let expect = pos;
  for await (const msg of stream) {
    act.touch();
    if (msg.data.length === 0) continue;
    if (Number(msg.offset) !== expect) throw new ConnectError(`${file.path}: ReadFile sent offset ${msg.offset}, expected ${expect}`, Code.Internal);
    expect += msg.data.length;
    await deliver(msg.data);
  }
}
