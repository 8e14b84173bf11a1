// Errors of the blob store. Each extends the domain error that the error
// interceptor already maps to the right Connect code, so a handler can let
// them through unchanged.
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../shared/errors.js";

/**
 * The bytes received do not have the digest (or size) the caller declared.
 * Nothing was stored under the declared digest. InvalidArgument rather than
 * DataLoss: the declared digest and the bytes sent disagree, whatever the
 * state of the server.
 */
export class ChecksumMismatchError extends InvalidArgumentError {
  constructor(
    readonly expected: { sha256?: string; size?: number },
    /** `size` is a lower bound when `atLeast`: the body was cut off for being too long. */
    readonly actual: { sha256?: string; size: number; atLeast?: boolean },
  ) {
    const sizeWrong = expected.size !== undefined && (actual.atLeast === true || actual.size !== expected.size);
    const got = actual.atLeast
      ? `more than ${actual.size} bytes`
      : `${actual.size} bytes${actual.sha256 ? ` with sha256 ${actual.sha256}` : ""}`;
    const want = [expected.size !== undefined ? `${expected.size} bytes` : "", expected.sha256 ? `sha256 ${expected.sha256}` : ""]
      .filter(Boolean)
      .join(" with ");
    super([
      {
        field: sizeWrong ? "size_bytes" : "sha256",
        description: `the content received is ${got}, but ${want} was declared, so it was not stored. Check that the file did not change while it was sent and that the declared digest is of this file, then send it again`,
      },
    ]);
  }
}

/** No blob with that digest is stored. */
export class BlobNotFoundError extends NotFoundError {
  constructor(readonly sha256: string) {
    super("blob", `sha256:${sha256}`);
  }
}

/** No staged (resumable) upload with that id: never created, committed or aborted. */
export class StagingNotFoundError extends NotFoundError {
  constructor(readonly stagingId: string) {
    super("staged upload", stagingId);
  }
}

/**
 * An append did not start where the staged bytes end. The caller should ask
 * for the staged size and resume from there.
 */
export class OffsetMismatchError extends FailedPreconditionError {
  constructor(
    readonly stagingId: string,
    readonly offset: number,
    readonly stagedSize: number,
  ) {
    super(
      "OFFSET_MISMATCH",
      `staged upload ${stagingId} holds ${stagedSize} bytes, but the write started at offset ${offset}; resume from offset ${stagedSize}`,
      { staged_size: String(stagedSize), offset: String(offset) },
    );
  }
}
