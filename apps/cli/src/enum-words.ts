// The contract's enums as the CLI shows and reads them: a value's name in
// lower case, without the enum's prefix (FRAMEWORK_PYTORCH -> pytorch,
// VERSION_STATE_READY -> ready), read from the generated descriptors, so a
// value added to the proto is shown and accepted with no edit here.
import type { DescEnum } from "@bufbuild/protobuf";

/** `pytorch` for Framework 4; `-` for the zero (UNSPECIFIED) value; the number for a value this build does not know. */
export function enumWord(desc: DescEnum, value: number): string {
  if (value === 0) return "-";
  const v = desc.values.find((x) => x.number === value);
  return v ? v.localName.toLowerCase() : String(value);
}

/** Every value but the zero one, as enumWord names it. */
export function enumWords(desc: DescEnum): string[] {
  return desc.values.filter((v) => v.number !== 0).map((v) => v.localName.toLowerCase());
}

/** `pytorch`, `PYTORCH`, `FRAMEWORK_PYTORCH`, `scikit-learn` -> the value's number; undefined when none matches (or it is the zero value). */
export function parseEnumWord(desc: DescEnum, text: string): number | undefined {
  const key = text.trim().toUpperCase().replace(/[-\s]/g, "_");
  const v = desc.values.find((x) => x.number !== 0 && (x.localName === key || x.name === key));
  return v?.number;
}
