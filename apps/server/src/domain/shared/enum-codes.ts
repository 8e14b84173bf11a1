// The contract's enums as filters and messages name their values: without
// the enum's prefix (PYTORCH, TAR_GZ, READY), read from the generated
// descriptors, so a value added to the proto is filterable and named right
// with no hand-kept copy to update.
import type { DescEnum } from "@bufbuild/protobuf";

/** Every value but the zero (UNSPECIFIED) one: `{ PYTORCH: 4, ... }`. */
export function enumCodes(desc: DescEnum): Record<string, number> {
  return Object.fromEntries(desc.values.filter((v) => v.number !== 0).map((v) => [v.localName, v.number]));
}

/** `SUCCEEDED` for ExportState 3; the number itself for a value the contract does not name. */
export function enumName(desc: DescEnum, value: number): string {
  return desc.values.find((v) => v.number === value)?.localName ?? String(value);
}

/** `TAR, TAR_GZ or ZIP`: the named values, for messages. */
export function enumChoices(desc: DescEnum): string {
  const names = Object.keys(enumCodes(desc));
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}
