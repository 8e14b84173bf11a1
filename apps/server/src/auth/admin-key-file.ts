// The server-wide admin key created at the first start: written to
// DATA_DIR/admin.key (mode 0600), where the CLI on the same machine finds it,
// and shown once on the terminal. It never goes into the JSON logs; when
// stderr is not a terminal (a service manager collecting output), only the
// file's path is printed, so the secret does not end up in a log store.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NewAccessKey } from "../domain/keys/index.js";
import type { Logger } from "../logger.js";

export const ADMIN_KEY_FILE = "admin.key";

export async function announceAdminKey(created: NewAccessKey | undefined, dataDir: string, logger: Logger): Promise<void> {
  if (!created) return;
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, ADMIN_KEY_FILE);
  writeFileSync(path, `${created.token}\n`, { mode: 0o600, flag: "w" });
  chmodSync(path, 0o600); // an existing file keeps its mode on write
  logger.info({ keyId: created.accessKey.keyId, path }, "created the server-wide admin key (first start on an empty database)");
  const lines = [
    "",
    "  modelreg: created the server-wide admin key. It is shown only now:",
    "",
    process.stderr.isTTY ? `      ${created.token}` : `      (not shown: stderr is not a terminal; read it from ${path})`,
    "",
    `  It is also in ${path} (mode 0600), where the modelreg CLI on this machine finds it.`,
    "  Use it to create workspace keys: modelreg keys create <user> --role editor",
    "",
  ];
  process.stderr.write(`${lines.join("\n")}\n`);
}
