// What the browser's transfers work with: FileService, where signed URLs
// resolve, fetch, and the options callers pass.
import type { Client } from "@connectrpc/connect";
import type { FileService } from "@modelreg/proto";
import type { TransferProgress } from "../transfers/progress.js";
import type { RetryPolicy } from "../transfers/retry.js";
import type { Fetch } from "./fetch-bytes.js";

export interface BrowserTransferContext {
  files: Client<typeof FileService>;
  /** The server's address; signed URLs that are paths resolve against it. */
  baseUrl: string;
  fetch: Fetch;
  /** Short or full version reference -> the version's resource name (an alias resolved once per transfer). */
  resolveVersion(ref: string, signal?: AbortSignal): Promise<string>;
}

export interface BrowserTransferOptions {
  /** Called as bytes move (uploads: after each chunk; downloads: as they arrive). */
  onProgress?: ((progress: TransferProgress) => void) | undefined;
  /** Aborts the transfer (rejects with Canceled). */
  signal?: AbortSignal | undefined;
  /** Retries after a dropped connection (default: 5 attempts in a row without progress). */
  retry?: Partial<RetryPolicy> | undefined;
}

/** Bytes per upload request in a browser (default): progress is reported per request, and a retry resends at most this. */
export const BROWSER_CHUNK_BYTES = 16 << 20;
