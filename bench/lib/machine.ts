// What every benchmark prints about the machine it ran on, so a reader can
// tell a quiet run from a loaded one: the load average at the start and at
// the end, and the number of CPUs it is to be read against.
import { cpus, loadavg } from "node:os";

export interface LoadReading {
  /** 1-minute load average. */
  one: number;
  five: number;
  cpus: number;
}

export function readLoad(): LoadReading {
  const [one, five] = loadavg();
  return { one: one!, five: five!, cpus: cpus().length };
}

/** One line for the report: "load average 0.42 at start, 1.97 at end (1-minute; 2 CPUs)". */
export function describeLoad(start: LoadReading, end: LoadReading): string {
  return `load average ${start.one.toFixed(2)} at start, ${end.one.toFixed(2)} at end (1-minute; ${start.cpus} CPUs)`;
}

/** Default rounds of every benchmark (issue 17: three, each with its baseline beside it). */
export const DEFAULT_ROUNDS = 3;
