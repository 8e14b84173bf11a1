// Domain errors. The domain layer throws these and never imports Connect;
// the error interceptor (../interceptors/errors.ts) maps each to a code.

/** One bad field of a request. `field` is a proto field path (`model.labels`). */
export interface FieldViolation {
  field: string;
  description: string;
}

/** Base class: `reason` is a stable UPPER_SNAKE_CASE machine-readable cause. */
export abstract class DomainError extends Error {
  abstract readonly reason: string;
  /** Extra key/values for google.rpc.ErrorInfo metadata. */
  readonly metadata: Record<string, string>;
  constructor(message: string, metadata: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.metadata = metadata;
  }
}

/** The request is malformed; one entry per bad field. */
export class InvalidArgumentError extends DomainError {
  readonly reason = "INVALID_ARGUMENT";
  constructor(readonly violations: FieldViolation[]) {
    super(violations.map((v) => `${v.field}: ${v.description}`).join("; "));
  }
  static field(field: string, description: string): InvalidArgumentError {
    return new InvalidArgumentError([{ field, description }]);
  }
}

/**
 * The named resource does not exist (or is not visible to the caller). The
 * ErrorInfo metadata says which: `resource` (its name) and `resource_type`
 * (model, version, alias, workspace, ...), so a client can tell a missing
 * model from a missing version of it. `described` is how the message names
 * it when "<type> <name>" does not fit (a version looked up by uid).
 */
export class NotFoundError extends DomainError {
  readonly reason = "NOT_FOUND";
  constructor(
    readonly resourceType: string,
    readonly resourceName: string,
    described = `${resourceType} ${resourceName}`,
  ) {
    super(`${described} not found`, { resource: resourceName, resource_type: resourceType });
  }
}

/** A resource of that name exists already. */
export class AlreadyExistsError extends DomainError {
  readonly reason = "ALREADY_EXISTS";
  constructor(readonly resourceType: string, readonly resourceName: string) {
    super(`${resourceType} ${resourceName} already exists`, { resource: resourceName });
  }
}

/** The etag sent with an update or delete is no longer current. */
export class EtagMismatchError extends DomainError {
  readonly reason = "ETAG_MISMATCH";
  constructor(resourceName: string, currentEtag: string) {
    super(`${resourceName} was changed since etag was read (current etag ${currentEtag}); read it again and retry`, {
      resource: resourceName,
      current_etag: currentEtag,
    });
  }
}

/** The resource is in a state that does not allow the operation. */
export class FailedPreconditionError extends DomainError {
  constructor(readonly reason: string, message: string, metadata: Record<string, string> = {}) {
    super(message, metadata);
  }
}


/** No valid access key was presented (missing, malformed, unknown, revoked, expired). */
export class UnauthenticatedError extends DomainError {
  readonly reason = "UNAUTHENTICATED";
}

/** The key is valid but its role is too small for the call. */
export class PermissionDeniedError extends DomainError {
  readonly reason = "PERMISSION_DENIED";
}
