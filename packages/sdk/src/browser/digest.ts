// sha256 with Web Crypto. crypto.subtle.digest takes its input whole (Web
// Crypto has no incremental hash), so a Blob is read into memory once to be
// hashed: a file must fit in the page's memory, once. Nothing else holds a
// second copy meanwhile (uploads then send slices of the Blob itself).
import { Code, ConnectError } from "@connectrpc/connect";

export interface BlobDigest {
  sizeBytes: number;
  /** Lowercase hex. */
  sha256: string;
}

type Subtle = typeof globalThis.crypto.subtle;

function subtle(): Subtle {
  const s = (globalThis.crypto as typeof globalThis.crypto | undefined)?.subtle;
  if (!s) {
    throw new ConnectError(
      "Web Crypto (crypto.subtle) is not available here, so files cannot be hashed: serve the page over https (or from localhost), where browsers provide it",
      Code.FailedPrecondition,
    );
  }
  return s;
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** sha256 (lowercase hex) of bytes in memory. */
export async function sha256Of(data: Uint8Array | ArrayBuffer): Promise<string> {
  return toHex(new Uint8Array(await subtle().digest("SHA-256", data as Parameters<Subtle["digest"]>[1])));
}

/** sha256 and size of a Blob (a File, or one made in the page). */
export async function digestBlob(blob: Blob): Promise<BlobDigest> {
  return { sizeBytes: blob.size, sha256: await sha256Of(await blob.arrayBuffer()) };
}
