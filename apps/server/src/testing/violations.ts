// What a domain rule refused, for its unit tests: the field violations of
// an InvalidArgumentError (none when the rule accepts), any other error
// rethrown.
import { type FieldViolation, InvalidArgumentError } from "../domain/shared/errors.js";

export function violationsOf(fn: () => unknown): FieldViolation[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidArgumentError) return e.violations;
    throw e;
  }
  return [];
}

/** The fields violationsOf names, in order. */
export function violatedFields(fn: () => unknown): string[] {
  return violationsOf(fn).map((v) => v.field);
}
