// The signed URLs of the plain-HTTP byte paths:
//   PUT  /v1/uploads/{upload}?ws=…&obj=…&exp=…&kid=…&sig=…          an upload session
//   GET  /v1/blobs/{sha256}/{file name}?ws=…&obj=…&exp=…&kid=…&sig=…  a file's content
// Each is signed for one object (the session id, or the digest) in one
// workspace, and expires. The file name in a download path only names the
// download (Content-Disposition); it is covered by the signature too.
import type { UrlSigner } from "../auth/signed-urls.js";

export const UPLOAD_PREFIX = "/v1/uploads/";
export const BLOB_PREFIX = "/v1/blobs/";

/** Download URLs live an hour; upload URLs as long as their session. */
export const DOWNLOAD_URL_TTL_SECONDS = 3600;

export interface FileUrls {
  upload(workspace: string, id: string, expireTime: Date): string;
  download(workspace: string, sha256: string, fileName: string): { url: string; expireTime: Date };
}

/** `base` (PUBLIC_URL, or from the request) makes URLs absolute; "" leaves them as paths. */
export function createFileUrls(signer: UrlSigner, now: () => number = Date.now) {
  return (base: string): FileUrls => ({
    upload(workspace, id, expireTime) {
      const ttl = Math.max(1, Math.min(7 * 24 * 3600, Math.floor((expireTime.getTime() - now()) / 1000)));
      return base + signer.sign({ path: `${UPLOAD_PREFIX}${id}`, workspace, object: id, method: "PUT", expiresInSeconds: ttl });
    },
    download(workspace, sha256, fileName) {
      const path = `${BLOB_PREFIX}${sha256}/${encodeURIComponent(fileName)}`;
      const url = base + signer.sign({ path, workspace, object: sha256, method: "GET", expiresInSeconds: DOWNLOAD_URL_TTL_SECONDS });
      return { url, expireTime: new Date(Math.floor(now() / 1000) * 1000 + DOWNLOAD_URL_TTL_SECONDS * 1000) };
    },
  });
}

/** The server's base URL as a client reached it: PUBLIC_URL, else from Host, else "" (paths). */
export function baseUrlOf(publicUrl: string | undefined, host: string | null | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, "");
  if (host && /^[A-Za-z0-9.\-:[\]]{1,300}$/.test(host)) return `http://${host}`;
  return "";
}

/** The host of an absolute URL (a handler's ctx.url), if it has one. */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}
