// Where the CLI reads and writes: the process streams, working directory,
// home directory and terminal in main.ts (with terminal.ts); string buffers
// and temp directories in tests. Nothing else in the CLI touches `process`.

/** The part of a writable stream the CLI uses. */
export interface OutStream {
  write(chunk: string): unknown;
  /** True when a person is looking: tables get colors. */
  isTTY?: boolean;
  /** Terminal width, for help text. */
  columns?: number;
}

/** Standard input, read only by `modelreg login` (an access key piped in). */
export interface InStream {
  /** True when it is a terminal: login then prompts instead of reading to the end. */
  isTTY?: boolean;
  /** Everything until end of input. */
  readAll(): Promise<string>;
}

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  /**
   * Environment variables (MODELREG_SERVER, MODELREG_WORKSPACE,
   * MODELREG_ACCESS_KEY, MODELREG_PROFILE, MODELREG_CONFIG_DIR,
   * XDG_CONFIG_HOME, HOME, DATA_DIR, NO_COLOR, MODELREG_NO_PROGRESS).
   */
  env: Record<string, string | undefined>;
  /** Standard input; absent = nothing to read. */
  stdin?: InStream;
  /** Asks for a secret on the terminal without echoing it; absent when there is no terminal. */
  promptSecret?: (question: string) => Promise<string>;
  /** The working directory a relative DATA_DIR resolves against; absent = only an absolute DATA_DIR is read. */
  cwd?: string;
  /** The home directory, when HOME is not in `env` (profiles live in ~/.config/modelreg). */
  homedir?: string;
}

export interface BufferIoOptions {
  tty?: boolean;
  /** What stdin holds (none when undefined). */
  stdin?: string;
  /** Answers to terminal prompts, in order; the questions are recorded in `prompts`. */
  answers?: string[];
  cwd?: string;
  homedir?: string;
}

/** An Io that records what is written, for tests. */
export function bufferIo(env: Record<string, string | undefined> = {}, options: BufferIoOptions = {}) {
  let out = "";
  let err = "";
  const prompts: string[] = [];
  const answers = options.answers ? [...options.answers] : undefined;
  const io: Io = {
    stdout: { write: (s: string) => (out += s), isTTY: options.tty ?? false },
    stderr: { write: (s: string) => (err += s), isTTY: options.tty ?? false },
    env,
    ...(options.stdin !== undefined ? { stdin: { isTTY: false, readAll: async () => options.stdin! } } : {}),
    ...(answers
      ? {
          promptSecret: async (question: string) => {
            prompts.push(question);
            const answer = answers.shift();
            if (answer === undefined) throw new Error("no answer left for the prompt");
            return answer;
          },
        }
      : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.homedir !== undefined ? { homedir: options.homedir } : {}),
  };
  return {
    io,
    prompts,
    get stdout() {
      return out;
    },
    get stderr() {
      return err;
    },
  };
}
