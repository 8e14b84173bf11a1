// Where the baselines of `bench transfer` keep what they receive: each
// upload of a name in a file of its own (<name>.<n>), kept until the bench
// ends, and the name's latest upload served, as modelreg keeps every
// content it stores as a blob of its own. Overwriting one file in place
// frees the last upload's page-cache pages as the next starts, which then
// writes into them again: on these VMs that is several times faster than
// writing into pages the host has taken back (see the head of ./index.ts),
// a head start modelreg's store never gets.

const NAME = /^[A-Za-z0-9._-]{1,200}$/;

export interface KeptFile {
  path: string;
  sha256: string;
}

export function keptFiles(dataDir: string) {
  let uploads = 0;
  const latest = new Map<string, KeptFile>();
  return {
    /** Whether `name` is one the baselines take (letters, digits, '.', '_' and '-'). */
    takes(name: string): boolean {
      return NAME.test(name);
    },
    /** A new file for an upload of `name` (one they take). */
    next(name: string): string {
      return `${dataDir}/${name}.${++uploads}`;
    },
    /** The upload of `name` into `path` is whole and durable. */
    stored(name: string, file: KeptFile): void {
      latest.set(name, file);
    },
    /** The latest whole upload of `name`. */
    latest(name: string): KeptFile | undefined {
      return latest.get(name);
    },
  };
}
