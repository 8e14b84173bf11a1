// Progress of a transfer, summed over its files or sessions. No node:
// module here: the browser entry reports progress the same way.

export interface TransferProgress {
  /** Bytes sent (upload) or received (download) so far, over all files of the call. */
  bytesDone: number;
  /** Bytes the call moves in all: what the server lacks (upload), what is not local yet (download). */
  bytesTotal: number;
  /** The file the last bytes belong to. */
  path?: string;
}

/** Sums bytes per key (a session, a file) into one progress report. */
export function progressReporter(bytesTotal: number, onProgress: ((progress: TransferProgress) => void) | undefined) {
  const parts = new Map<string, number>();
  let bytesDone = 0;
  return {
    get bytesTotal() {
      return bytesTotal;
    },
    /** More bytes to move than first known (an upload that sends some files first, then stages the rest); reports. */
    addTotal(bytes: number) {
      bytesTotal += bytes;
      onProgress?.({ bytesDone, bytesTotal });
    },
    get bytesDone() {
      return bytesDone;
    },
    /** Sets how far `key` is, and reports. */
    set(key: string, bytes: number, path?: string) {
      bytesDone += bytes - (parts.get(key) ?? 0);
      parts.set(key, bytes);
      onProgress?.({ bytesDone, bytesTotal, ...(path !== undefined ? { path } : {}) });
    },
    get(key: string): number {
      return parts.get(key) ?? 0;
    },
  };
}
export type ProgressReporter = ReturnType<typeof progressReporter>;
