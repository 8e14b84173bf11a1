// Where each entry of an uncompressed tar file is: its path, size and the
// offset of its data, read from the headers alone (the data is skipped, not
// read). Understands ustar (with the 155-byte prefix), pax extended headers
// (path, size) and GNU long names, which is what tar-stream, GNU tar and
// bsdtar write. The data of a regular file is one contiguous range of the
// archive, so it can be hashed or uploaded in place. What the headers get
// wrong (a bad checksum or number, an archive that ends early) is thrown as a
// TarFormatError; errors of reading the file itself pass through as they are.
import type { FileHandle } from "node:fs/promises";

/** The bytes are not a whole, valid tar (as opposed to a file that cannot be read). */
export class TarFormatError extends Error {
  override readonly name = "TarFormatError";
}

export interface TarEntry {
  path: string;
  /** "file", "directory", or the raw type flag of anything else. */
  type: "file" | "directory" | string;
  size: number;
  /** Offset of the entry's data in the archive. */
  offset: number;
}

const BLOCK = 512;

/** Every entry of the tar in `fh`, in archive order. */
export async function indexTar(fh: FileHandle, fileSize: number): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const header = Buffer.alloc(BLOCK);
  let pos = 0;
  let pax: Record<string, string> = {};
  let globalPax: Record<string, string> = {};
  let longName: string | undefined;
  for (;;) {
    if (pos + BLOCK > fileSize) throw new TarFormatError(`truncated tar: the header at byte ${pos} runs past the end (${fileSize} bytes)`);
    await readFully(fh, header, pos);
    if (header.every((b) => b === 0)) break; // end of archive
    if (!checksumOk(header)) throw new TarFormatError(`not a valid tar: bad header checksum at byte ${pos}`);
    const flag = String.fromCharCode(header[156]!);
    const size = numeric(header, 124, 12, pos);
    const dataAt = pos + BLOCK;
    const next = dataAt + Math.ceil(size / BLOCK) * BLOCK;
    if (flag === "x" || flag === "g" || flag === "L") {
      if (dataAt + size > fileSize) throw new TarFormatError(`truncated tar: the extended header at byte ${pos} needs ${size} bytes, the archive ends first`);
      const data = Buffer.alloc(size);
      await readFully(fh, data, dataAt);
      if (flag === "x") pax = { ...pax, ...parsePax(data) };
      else if (flag === "g") globalPax = { ...globalPax, ...parsePax(data) };
      else longName = data.toString("utf8").replace(/\0+$/, "");
      pos = next;
      continue;
    }
    const attrs = { ...globalPax, ...pax };
    const name = cString(header, 0, 100);
    const magic = header.subarray(257, 262).toString("latin1");
    const prefix = magic === "ustar" ? cString(header, 345, 155) : "";
    let path = attrs.path ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    const realSize = attrs.size !== undefined ? Number(attrs.size) : size;
    if (!Number.isSafeInteger(realSize) || realSize < 0) throw new TarFormatError(`not a valid tar: entry ${path} has a bad size (${attrs.size})`);
    const type = flag === "0" || flag === "\0" || flag === "7" ? "file" : flag === "5" ? "directory" : flag;
    path = entryPath(path);
    if (dataAt + realSize > fileSize) throw new TarFormatError(`truncated tar: ${path} needs ${realSize} bytes, the archive ends first`);
    entries.push({ path, type, size: realSize, offset: dataAt });
    pos = dataAt + Math.ceil(realSize / BLOCK) * BLOCK;
    pax = {};
    longName = undefined;
  }
  return entries;
}

/** An entry's path as the manifest writes it: no leading `./`, no trailing `/`. */
export function entryPath(path: string): string {
  return path.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new TarFormatError(`truncated tar: the file ends at byte ${position + done}`);
    done += bytesRead;
  }
}

function cString(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString("utf8");
}

/** An octal field, or base-256 (GNU, high bit of the first byte set) for big values. */
function numeric(buf: Buffer, start: number, length: number, at: number): number {
  const field = buf.subarray(start, start + length);
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = field.toString("latin1").replace(/\0.*$/s, "").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`not a valid tar: bad number "${text}" in the header at byte ${at}`);
  return Number.parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  const stored = Number.parseInt(header.subarray(148, 156).toString("latin1").replace(/\0.*$/s, "").trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return sum === stored;
}

/** pax records: "<len> key=value\n" ... */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number.parseInt(data.subarray(at, space).toString("latin1"), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.subarray(space + 1, at + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}
