// The loop both upload paths run over one upload session (the Node
// client's PUTs or WriteUpload streams, the browser's fetch PUTs): send the
// next chunk from the server's committed offset until the session is
// COMPLETE; after an offset mismatch (another writer, a lost answer) read the
// session again and go on from where the server is; after a dropped
// connection resume, as withResume allows. No node: module here.
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { type FileService, UploadState, type UploadSession } from "@modelreg/proto";
import { type RetryPolicy, withResume } from "./retry.js";
import { chunkSizeFor, isOffsetMismatch } from "./session-answer.js";

const MAX_OFFSET_RESYNCS = 5;

export interface SendChunksOptions {
  /** For GetUploadSession when the client must learn the server's offset again. */
  files: Client<typeof FileService>;
  chunkBytes: number | undefined;
  policy: RetryPolicy;
  signal: AbortSignal | undefined;
  /** Bytes of this session committed so far (may go back after a resume). */
  onBytes(bytes: number): void;
  /** Sends the bytes [start, end); resolves with the session as the server then has it. */
  send(session: UploadSession, start: number, end: number): Promise<UploadSession>;
}

/** Uploads what the session lacks; resolves with the COMPLETE session. */
export async function sendChunks(first: UploadSession, options: SendChunksOptions): Promise<UploadSession> {
  let session = first;
  let resyncs = 0;
  const { signal } = options;
  const refresh = async () => {
    session = (await options.files.getUploadSession({ name: session.name }, signal ? { signal } : {})).upload!;
    options.onBytes(Number(session.committedOffset));
  };
  return withResume(
    async (retry) => {
      if (retry > 0) await refresh();
      while (session.state !== UploadState.COMPLETE) {
        const size = Number(session.sizeBytes);
        const start = Number(session.committedOffset);
        const end = Math.min(size, start + chunkSizeFor(session, options.chunkBytes));
        try {
          session = await options.send(session, start, end);
          resyncs = 0;
        } catch (err) {
          if (!(err instanceof ConnectError) || !isOffsetMismatch(err) || ++resyncs > MAX_OFFSET_RESYNCS) throw err;
          await refresh();
          continue;
        }
        options.onBytes(Number(session.committedOffset));
        if (session.state !== UploadState.COMPLETE && Number(session.committedOffset) <= start && end > start) {
          throw new ConnectError(`upload ${session.name} made no progress at offset ${start}`, Code.Internal);
        }
      }
      return session;
    },
    { policy: options.policy, signal, progress: () => Number(session.committedOffset) },
  );
}
