// Errors of the auth layer. Like the domain errors they extend, they never
// import Connect: the plain-HTTP download handler maps SignedUrlError to a
// status of its own. (ResourceExhaustedError is the domain's: ports/limiter.ts.)
import { DomainError } from "../domain/shared/errors.js";

export type SignedUrlReason = "MISSING" | "MALFORMED" | "EXPIRED" | "BAD_SIGNATURE" | "UNKNOWN_KEY" | "ACCESS_KEY_INVALID";

// One fixed message per reason: whoever holds a forged or damaged URL learns
// the reason and nothing about which parameter or which byte was wrong.
const SIGNED_URL_MESSAGES: Record<SignedUrlReason, string> = {
  MISSING: "the URL is not signed; request a new download URL",
  MALFORMED: "the URL's signature parameters are malformed; use the URL exactly as it was issued",
  EXPIRED: "the URL has expired; request a new download URL",
  BAD_SIGNATURE: "the URL's signature does not match; use the URL exactly as it was issued, with the same HTTP method",
  UNKNOWN_KEY: "the URL was signed with a key this server no longer accepts; request a new download URL",
  ACCESS_KEY_INVALID: "the access key this URL was issued to has been revoked, has expired or no longer exists; request a new URL with a valid access key",
};

/** A signed URL failed verification; see ./signed-urls.ts. */
export class SignedUrlError extends DomainError {
  constructor(readonly reason: SignedUrlReason) {
    super(SIGNED_URL_MESSAGES[reason]);
  }
}
