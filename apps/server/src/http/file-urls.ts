// The signed URLs of the plain-HTTP byte paths:
//   PUT  /v1/uploads/{upload}?ws=…&obj=…&exp=…&kid=…&ak=…&sig=…          an upload session
//   GET  /v1/blobs/{sha256}/{file name}?ws=…&obj=…&exp=…&kid=…&ak=…&sig=…  a file's content
// Each is signed for one object (the session id, or the digest) in one
// workspace, and for the access key that asked for it (`ak`), and expires.
// The file name in a download path only names the download
// (Content-Disposition); it is covered by the signature too.
//
// A URL is checked again when it is used (createSignedUrlCheck): the key it
// was issued to must still stand, read through the authenticator's key
// cache, so a revocation ends the URLs of that key at once on the server that
// revoked and within the cache's few seconds on the others. Whether a
// download's content is still a file of the workspace is the download
// route's check (files.holds).
import type { KeyStatus } from "../auth/authenticator.js";
import { SignedUrlError } from "../auth/errors.js";
import type { SignedUrlMethod, UrlSigner, VerifiedUrl } from "../auth/signed-urls.js";

export const UPLOAD_PREFIX = "/v1/uploads/";
export const BLOB_PREFIX = "/v1/blobs/";

/** Download URLs live an hour; upload URLs as long as their session. */
export const DOWNLOAD_URL_TTL_SECONDS = 3600;

export interface FileUrls {
  upload(workspace: string, id: string, expireTime: Date): string;
  download(workspace: string, sha256: string, fileName: string): { url: string; expireTime: Date };
}

/**
 * `base` (PUBLIC_URL, or from the request) makes URLs absolute; "" leaves them
 * as paths. `accessKeyId` is the key asking ("" with AUTH=off).
 */
export function createFileUrls(signer: UrlSigner, now: () => number = Date.now) {
  return (base: string, accessKeyId = ""): FileUrls => ({
    upload(workspace, id, expireTime) {
      const ttl = Math.max(1, Math.min(7 * 24 * 3600, Math.floor((expireTime.getTime() - now()) / 1000)));
      return base + signer.sign({ path: `${UPLOAD_PREFIX}${id}`, workspace, object: id, method: "PUT", expiresInSeconds: ttl, accessKeyId });
    },
    download(workspace, sha256, fileName) {
      const path = `${BLOB_PREFIX}${sha256}/${encodeURIComponent(fileName)}`;
      const url = base + signer.sign({ path, workspace, object: sha256, method: "GET", expiresInSeconds: DOWNLOAD_URL_TTL_SECONDS, accessKeyId });
      return { url, expireTime: new Date(Math.floor(now() / 1000) * 1000 + DOWNLOAD_URL_TTL_SECONDS * 1000) };
    },
  });
}

/** What the byte routes verify a URL with: the signature, then the key it was issued to. */
export interface SignedUrlCheck {
  /** The verified URL; throws SignedUrlError (ACCESS_KEY_INVALID when its key no longer stands). */
  verify(url: URL, method: SignedUrlMethod): Promise<VerifiedUrl>;
}

/** `keyStatus` is the authenticator's; without it (AUTH=off) only signatures are checked. */
export function createSignedUrlCheck(signer: UrlSigner, keyStatus?: (accessKeyId: string) => Promise<KeyStatus>): SignedUrlCheck {
  return {
    async verify(url, method) {
      const signed = signer.verify(url, method);
      if (signed.accessKeyId && keyStatus && (await keyStatus(signed.accessKeyId)) !== "live") throw new SignedUrlError("ACCESS_KEY_INVALID");
      return signed;
    },
  };
}

/**
 * The server's base URL as a client reached it: PUBLIC_URL, else from Host
 * (https when the request came over TLS), else "" (paths).
 */
export function baseUrlOf(publicUrl: string | undefined, host: string | null | undefined, secure = false): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, "");
  if (host && /^[A-Za-z0-9.\-:[\]]{1,300}$/.test(host)) return `${secure ? "https" : "http"}://${host}`;
  return "";
}

/** Whether a request came over TLS (an HTTP/2 request's socket is a proxy of its session's). */
export function isTls(req: { socket?: object | null }): boolean {
  const socket = req.socket as { encrypted?: boolean } | null | undefined;
  return socket?.encrypted === true;
}

/** baseUrlOf for a handler's ctx.url, whose scheme says whether the call came over TLS. */
export function baseUrlOfRequest(publicUrl: string | undefined, url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  return baseUrlOf(publicUrl, parsed?.host || undefined, parsed?.protocol === "https:");
}
