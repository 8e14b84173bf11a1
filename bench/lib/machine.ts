// What every benchmark prints about the machine it ran on, so a reader can
// tell a quiet run from a loaded one: the load average at the start and at
// the end, and the number of CPUs it is to be read against.
import { readFileSync } from "node:fs";
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

/** The --rounds option's value as a count, or an error saying what to give. */
export function parseRounds(text: string | undefined, max = 20): number {
  const rounds = Number(text ?? DEFAULT_ROUNDS);
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= max)) throw new Error(`--rounds ${text}: expected a whole number from 1 to ${max}`);
  return rounds;
}

/**
 * User+system CPU time, in ms, of this process's children that have ended
 * and been waited for (and of their own waited-for children): cutime and
 * cstime of /proc/self/stat. NaN where there is no /proc. The difference
 * across a spawned command is that command's CPU.
 */
export function endedChildrenCpuMs(): number {
  try {
    // Fields after the ")" that ends the command name: cutime is the 14th, cstime the 15th.
    const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}
