// Resident memory of a process (Linux /proc): current RSS, peak RSS (VmHWM),
// and resetting the peak so one case's high-water mark can be read alone.
import { readFileSync, writeFileSync } from "node:fs";

function statusKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Current resident set size in MB (10^6 bytes); NaN when unknown. */
export function rssMb(pid: number): number {
  return (statusKb(pid, "VmRSS") * 1024) / 1e6;
}

/** Peak resident set size (VmHWM) in MB since the start or the last resetPeakRss; NaN when unknown. */
export function peakRssMb(pid: number): number {
  return (statusKb(pid, "VmHWM") * 1024) / 1e6;
}

/**
 * Sets the process's VmHWM back to its current RSS (`echo 5 > clear_refs`,
 * Linux 4.0+, same user). Returns false when that is not possible, in which
 * case peakRssMb is the lifetime peak.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/**
 * Minor page faults of a process so far (Linux /proc; NaN when unknown):
 * fresh memory being touched, e.g. large buffers allocated anew each time.
 */
export function minorFaults(pid: number): number {
  try {
    // Fields after the ")" that ends the command name: minflt is the 8th.
    return Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[7]);
  } catch {
    return NaN;
  }
}
