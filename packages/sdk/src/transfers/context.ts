// What every transfer works with: the FileService clients, where signed
// URLs resolve, the inactivity timeout, and the options callers pass.
import type { Client } from "@connectrpc/connect";
import type { FileService } from "@modelreg/proto";
import type { HttpAgents } from "./http.js";
import type { TransferProgress } from "./progress.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.js";

export { progressReporter, type ProgressReporter, type TransferProgress } from "./progress.js";
export { DEFAULT_CHUNK_BYTES } from "./session-answer.js";

export interface TransferContext {
  /** FileService over the client's transport: the unary calls. */
  files: Client<typeof FileService>;
  /** FileService without compression (bytes are mostly incompressible): WriteUpload and ReadFile. */
  streams: Client<typeof FileService>;
  /** Closes the connection `streams` uses (after a stall: the next call opens a new one). */
  dropStreamConnection(): void;
  /** The server's address; signed URLs that are paths resolve against it. */
  baseUrl: string;
  /** The client's transferIdleMs (else timeoutMs): the transfers' inactivity timeout. */
  idleMs: number | undefined;
  agents: HttpAgents;
  /**
   * Short or full version reference -> the version's resource name. An alias
   * (`model@production`) is resolved once, here, so that every call of one
   * transfer reads or writes the same version even if the alias moves.
   */
  resolveVersion(ref: string, signal?: AbortSignal): Promise<string>;
}

export interface TransferOptions {
  /** Called as bytes move. */
  onProgress?: ((progress: TransferProgress) => void) | undefined;
  /** Aborts the transfer (rejects with Canceled). */
  signal?: AbortSignal | undefined;
  /** "http" (default): PUT/GET on the signed URLs; "stream": WriteUpload/ReadFile over the client's protocol. */
  transport?: "http" | "stream" | undefined;
  /** Largest piece sent per PUT or WriteUpload stream (default 256 MiB, the server's default max_chunk_bytes; never above the server's max_chunk_bytes). */
  chunkBytes?: number | undefined;
  /** Retries after a dropped or stalled connection (default: 5 attempts in a row without progress). */
  retry?: Partial<RetryPolicy> | undefined;
}

export const STREAM_MESSAGE_BYTES = 1 << 20;

export function retryPolicy(options: TransferOptions): RetryPolicy {
  return { ...DEFAULT_RETRY, ...options.retry };
}
