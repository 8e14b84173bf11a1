// The update_mask of `models update` / `versions update`, from the flags the
// user actually gave: only what is named changes.
import { UsageError } from "./exit-codes.js";
import { labelMap, type Label } from "./labels.js";

export interface UpdateFlags {
  description?: string;
  label?: Label[];
  clearLabels?: boolean;
}

export interface Update {
  /** Field mask paths, in proto field names. */
  paths: string[];
  /** The new values of the fields in `paths`. */
  fields: { description?: string; labels?: Record<string, string> };
}

/**
 * `--description` sets the description (an empty string clears it);
 * `--label` replaces the whole label map with the labels given;
 * `--clear-labels` removes every label. Nothing given (and no `other.paths`
 * from a command's own flags, named in `other.flags`) is a usage error.
 */
export function buildUpdate(flags: UpdateFlags, other: { paths: number; flags: string } = { paths: 0, flags: "" }): Update {
  const paths: string[] = [];
  const fields: Update["fields"] = {};
  if (flags.description !== undefined) {
    paths.push("description");
    fields.description = flags.description;
  }
  const labels = flags.label ?? [];
  if (labels.length > 0 && flags.clearLabels) {
    throw new UsageError("--label and --clear-labels cannot be combined: --label already replaces every label");
  }
  if (labels.length > 0 || flags.clearLabels) {
    paths.push("labels");
    fields.labels = flags.clearLabels ? {} : labelMap(labels);
  }
  if (paths.length === 0 && other.paths === 0) throw new UsageError(`nothing to update: give --description, --label${other.flags ? `, --clear-labels or ${other.flags}` : " or --clear-labels"}`);
  return { paths, fields };
}

