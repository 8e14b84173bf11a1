// Where the CLI reads and writes: the process streams in main.ts, string
// buffers in tests. Nothing else in the CLI touches `process`.

/** The part of a writable stream the CLI uses. */
export interface OutStream {
  write(chunk: string): unknown;
  /** True when a person is looking: tables get colors. */
  isTTY?: boolean;
  /** Terminal width, for help text. */
  columns?: number;
}

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  /** Environment variables (MODELREG_SERVER, MODELREG_WORKSPACE, NO_COLOR). */
  env: Record<string, string | undefined>;
}

/** An Io that records what is written, for tests. */
export function bufferIo(env: Record<string, string | undefined> = {}, options: { tty?: boolean } = {}) {
  let out = "";
  let err = "";
  const io: Io = {
    stdout: { write: (s: string) => (out += s), isTTY: options.tty ?? false },
    stderr: { write: (s: string) => (err += s), isTTY: options.tty ?? false },
    env,
  };
  return {
    io,
    get stdout() {
      return out;
    },
    get stderr() {
      return err;
    },
  };
}
