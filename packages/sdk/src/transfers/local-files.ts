// Local files of a transfer: every regular file under a directory with its
// manifest path (relative, '/'-separated), and manifest paths mapped back to
// local paths that cannot escape the target directory.
import { lstat, readdir } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";

export interface LocalFile {
  /** Path in the version's manifest, '/'-separated. */
  path: string;
  /** Where the file is on this machine. */
  localPath: string;
}

/**
 * Every regular file under `dir`, sorted by manifest path. Symbolic links
 * (to files or directories) and special files are refused: a version holds
 * bytes, and following links could upload what lies outside `dir`.
 */
export async function listLocalFiles(dir: string): Promise<LocalFile[]> {
  const root = resolve(dir);
  const files: LocalFile[] = [];
  const walk = async (abs: string): Promise<void> => {
    const entries = await readdir(abs, { withFileTypes: true });
    for (const entry of entries) {
      const child = join(abs, entry.name);
      if (entry.isSymbolicLink()) {
        throw new Error(`${child} is a symbolic link: only regular files can be uploaded; replace the link with a copy of its target, or remove it`);
      }
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) files.push({ path: relative(root, child).split(sep).join("/"), localPath: child });
      else throw new Error(`${child} is not a regular file (a socket, FIFO or device): only regular files can be uploaded`);
    }
  };
  const top = await lstat(root).catch((e: NodeJS.ErrnoException) => {
    throw e.code === "ENOENT" ? new Error(`${dir} does not exist`) : e;
  });
  if (!top.isDirectory() && !top.isSymbolicLink()) throw new Error(`${dir} is not a directory`);
  await walk(root);
  return files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/**
 * Where manifest path `path` goes under `dir`. Refuses a path that would
 * land outside `dir` (absolute, `..`, a drive letter), whatever the server
 * sent.
 */
export function localPathIn(dir: string, path: string): string {
  const root = resolve(dir);
  const segments = path.split("/");
  if (path === "" || isAbsolute(path) || /^[A-Za-z]:/.test(path) || path.includes("\\") || segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new Error(`refusing to write file "${path}": not a plain relative path`);
  }
  const target = join(root, ...segments);
  const rel = relative(root, target);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) throw new Error(`refusing to write file "${path}": it would land outside ${dir}`);
  return target;
}
