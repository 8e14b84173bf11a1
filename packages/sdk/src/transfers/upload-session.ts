// Sends the bytes of one upload session from its committed offset, by PUT
// on its signed URL (default) or by WriteUpload streams, in chunks of at
// most max_chunk_bytes. After a dropped or stalled connection, or a chunk
// at the wrong offset, it asks GetUploadSession where to continue.
import { createReadStream } from "node:fs";
import type { ConnectError } from "@connectrpc/connect";
import type { UploadSession } from "@modelreg/proto";
import { activitySignal, type ActivitySignal } from "./activity.js";
import { STREAM_MESSAGE_BYTES, type TransferContext } from "./context.js";
import { contentRange, httpRequest, readText, resolveUrl, throwHttpError } from "./http.js";
import { canceled, type RetryPolicy } from "./retry.js";
import { sendChunks } from "./send-chunks.js";
import { sessionFromPutAnswer } from "./session-answer.js";

export { chunkSizeFor, isOffsetMismatch, sessionFromPutAnswer } from "./session-answer.js";

export interface SessionJob {
  session: UploadSession;
  /** A local file with the session's content. */
  localPath: string;
  /** Where the content starts in localPath (default 0); e.g. a file stored inside an archive. */
  offset?: number;
}

export interface SendOptions {
  transport: "http" | "stream";
  chunkBytes: number | undefined;
  policy: RetryPolicy;
  signal: AbortSignal | undefined;
  /** Bytes of this session sent or committed so far (may go back after a resume). */
  onBytes(bytes: number): void;
}

/** Uploads what the session lacks; resolves with the COMPLETE session. */
export function sendSession(ctx: TransferContext, job: SessionJob, options: SendOptions): Promise<UploadSession> {
  return sendChunks(job.session, {
    files: ctx.files,
    chunkBytes: options.chunkBytes,
    policy: options.policy,
    signal: options.signal,
    onBytes: options.onBytes,
    send: (session, start, end) => sendChunk(ctx, session, job.localPath, start, end, options, job.offset ?? 0),
  });
}

async function sendChunk(ctx: TransferContext, session: UploadSession, localPath: string, start: number, end: number, options: SendOptions, base = 0): Promise<UploadSession> {
  const act = activitySignal(ctx.idleMs, options.signal);
  try {
    return options.transport === "stream"
      ? await writeStream(ctx, session, localPath, start, end, act, options, base)
      : await put(ctx, session, localPath, start, end, act, options, base);
  } catch (err) {
    if (act.idle && options.transport === "stream") ctx.dropStreamConnection();
    throw abortReason(err, act, options.signal);
  } finally {
    act.done();
  }
}

/** The error to report for a failed attempt: the inactivity timeout or the caller's abort when that is what ended it. */
export function abortReason(err: unknown, act: ActivitySignal, outer: AbortSignal | undefined): unknown {
  if (outer?.aborted) return canceled(outer);
  if (act.idle) return act.signal.reason;
  return err;
}

async function put(ctx: TransferContext, session: UploadSession, localPath: string, start: number, end: number, act: ActivitySignal, options: SendOptions, base = 0): Promise<UploadSession> {
  const size = Number(session.sizeBytes);
  const body = end > start ? createReadStream(localPath, { start: base + start, end: base + end - 1, highWaterMark: 256 << 10 }) : undefined;
  let sent = start;
  body?.on("data", (chunk) => {
    act.touch();
    sent += chunk.length;
    options.onBytes(sent);
  });
  let res: Awaited<ReturnType<typeof httpRequest>>;
  try {
    res = await httpRequest({
      url: resolveUrl(session.uploadUrl, ctx.baseUrl),
      method: "PUT",
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(end - start),
        ...(size > 0 ? { "content-range": contentRange(start, end, size) } : {}),
      },
      ...(body ? { body } : {}),
      agents: ctx.agents,
      signal: act.signal,
    });
  } finally {
    body?.destroy();
  }
  if (res.statusCode !== 200) {
    if (res.statusCode === 409) {
      const err = await throwHttpError(res).catch((e: ConnectError) => e);
      err.metadata.set("x-http-status", "409");
      throw err;
    }
    await throwHttpError(res);
  }
  const text = await readText(res);
  return sessionFromPutAnswer(session, text);
}

async function writeStream(ctx: TransferContext, session: UploadSession, localPath: string, start: number, end: number, act: ActivitySignal, options: SendOptions, base = 0): Promise<UploadSession> {
  let sent = start;
  async function* messages() {
    if (end === start) {
      yield { name: session.name, offset: BigInt(start) };
      return;
    }
    let first = true;
    for await (const chunk of createReadStream(localPath, { start: base + start, end: base + end - 1, highWaterMark: STREAM_MESSAGE_BYTES })) {
      const data = chunk as Buffer;
      yield first ? { name: session.name, offset: BigInt(start), data } : { data };
      first = false;
      act.touch();
      sent += data.length;
      options.onBytes(sent);
    }
  }
  const res = await ctx.streams.writeUpload(messages(), { signal: act.signal, timeoutMs: 0 });
  return res.upload!;
}
