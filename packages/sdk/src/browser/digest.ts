// sha256 with Web Crypto. crypto.subtle.digest takes its input whole (Web
// Crypto has no incremental hash), so a Blob is read into memory whole to
// be hashed (and the browser may copy it once more while it hashes): a
// file must fit in the page's memory. Nothing of the SDK holds another copy
// meanwhile, and uploads then send slices of the Blob itself.
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
  let bytes: ArrayBuffer;
  try {
    bytes = await blob.arrayBuffer();
  } catch (err) {
    // Too large for one buffer in this page (RangeError), or a File that could not be read whole.
    throw new ConnectError(
      `a file of ${blob.size} bytes could not be read into this page's memory to be hashed (${(err as Error)?.message ?? String(err)}): Web Crypto hashes whole buffers only; move files this large with the Node SDK or the CLI`,
      Code.ResourceExhausted,
      undefined,
      undefined,
      err,
    );
  }
  return { sizeBytes: blob.size, sha256: await sha256Of(bytes) };
}
