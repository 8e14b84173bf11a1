// Reading an export archive (tar, tar.gz or zip, told apart by their first
// bytes) for import: its modelreg.json (the first entry), and for every file
// the manifest lists, where its bytes are on disk. Everything is checked
// before anything is created: the entries must be exactly the manifest's
// files (no extra, missing, duplicate or wrong-sized entry), and every file
// must hash to its sha256. Whatever is wrong with the archive's bytes (not an
// archive, truncated, a bad modelreg.json, entries that differ from it, data
// that does not inflate or hash) is refused as DataLoss with reason
// ARCHIVE_CORRUPT, naming the archive; a newer format_version is
// Unimplemented, a path that names no file InvalidArgument, an abort stays an
// abort, and errors of the local system (a full disk) pass through as they are.
// The files of a tar, and the stored files of a zip, are byte ranges of the
// archive itself; a tar.gz is unpacked into a temp directory (removed by
// close()), as are compressed zip entries.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { createGunzip } from "node:zlib";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ExportManifestSchema, type ExportManifest, type VersionFile } from "@modelreg/proto";
import { clientError } from "../errors.js";
import tar from "tar-stream";
import yauzl from "yauzl";
import { progressReporter, type TransferProgress } from "../transfers/context.js";
import { entryPath, indexTar, TarFormatError } from "./tar-index.js";
import { withEntry } from "./zip-entry.js";

export type ArchiveKind = "tar" | "tar.gz" | "zip";

/** The newest archive layout this SDK reads. */
export const EXPORT_FORMAT_VERSION = 1;
export const MANIFEST_ENTRY = "modelreg.json";
/** modelreg.json larger than this is refused (10,000 files fit in a few MiB). */
const MAX_MANIFEST_BYTES = 64 << 20;
const READ_CHUNK = 4 << 20;

export interface ArchiveFile {
  /** The file as modelreg.json lists it (path, size_bytes, sha256, media_type). */
  file: VersionFile;
  /** A local file holding its bytes (the archive, or an unpacked copy). */
  localPath: string;
  /** Where its bytes start in localPath. */
  offset: number;
}

export interface OpenedArchive {
  kind: ArchiveKind;
  manifest: ExportManifest;
  /** In manifest order. */
  files: ArchiveFile[];
  /** Removes unpacked copies. */
  close(): Promise<void>;
}

export interface ReadArchiveOptions {
  signal?: AbortSignal;
  /** Progress of the local check (bytes of the files read and hashed). */
  onHashProgress?: (progress: TransferProgress) => void;
  /** Where a tar.gz is unpacked (default: a temp directory beside the archive, else in os.tmpdir()). */
  tmpDir?: string;
}

/** ErrorInfo reasons of a refused archive. */
export const ArchiveErrorReason = {
  /** The archive's bytes are not a whole, consistent modelreg export (DataLoss). */
  Corrupt: "ARCHIVE_CORRUPT",
  /** modelreg.json has a newer format_version than this SDK reads (Unimplemented). */
  FormatTooNew: "ARCHIVE_FORMAT_TOO_NEW",
  /** The path names no file (InvalidArgument). */
  NotFound: "ARCHIVE_NOT_FOUND",
  /** The path names a directory (InvalidArgument). */
  NotAFile: "ARCHIVE_NOT_A_FILE",
} as const;

function archiveError(archive: string, message: string, code: Code, reason: string): ConnectError {
  return clientError(message, code, reason, { archive: basename(archive) });
}

/** The archive is corrupt: DataLoss, its file name first in the message. */
export function corrupt(archive: string, message: string): ConnectError {
  return archiveError(archive, `${basename(archive)}: ${message}`, Code.DataLoss, ArchiveErrorReason.Corrupt);
}

/** An error of the operating system (ENOSPC, EACCES, EIO...), which says nothing about the archive's bytes. */
function isSystemError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === "string";
}

/**
 * What a failure while reading the archive is: a ConnectError, an abort (the
 * signal fired) and a system error stay as they are; anything else (tar,
 * gzip, inflate or zip errors) means the archive is corrupt.
 */
function readFailure(archive: string, what: string, err: unknown, signal: AbortSignal | undefined): unknown {
  if (err instanceof ConnectError || signal?.aborted || isSystemError(err)) return err;
  return corrupt(archive, `${what}: ${err instanceof Error ? err.message : String(err)}`);
}

/** The archive cannot be opened: a path that names no file is not a corrupt archive (the whole path is named). */
function openFailure(archive: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT" || code === "ENOTDIR") return archiveError(archive, `${archive}: no such file`, Code.InvalidArgument, ArchiveErrorReason.NotFound);
  if (code === "EISDIR") return archiveError(archive, `${archive}: is a directory, not an archive`, Code.InvalidArgument, ArchiveErrorReason.NotAFile);
  return err;
}

/** tar, tar.gz or zip, from the first bytes (not the extension). */
export async function detectArchiveKind(path: string): Promise<ArchiveKind> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw openFailure(path, err);
  }
  try {
    const head = Buffer.alloc(512);
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(head, 0, 512, 0));
    } catch (err) {
      throw openFailure(path, err);
    }
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "tar.gz";
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0x04034b50) return "zip";
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0x06054b50) return "zip"; // empty zip
    if (bytesRead === 512 && head.subarray(257, 262).toString("latin1") === "ustar") return "tar";
    throw corrupt(path, `${bytesRead === 0 ? "is empty" : "is not a tar, tar.gz or zip archive"}: not an export of modelreg`);
  } finally {
    await fh.close();
  }
}

/** Parses and checks modelreg.json. */
export function parseManifest(archive: string, bytes: Uint8Array): ExportManifest {
  let json: JsonValue;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8")) as JsonValue;
  } catch (err) {
    throw corrupt(archive, `${MANIFEST_ENTRY} is not valid JSON (${(err as Error).message})`);
  }
  let manifest: ExportManifest;
  try {
    manifest = fromJson(ExportManifestSchema, json, { ignoreUnknownFields: true });
  } catch (err) {
    throw corrupt(archive, `${MANIFEST_ENTRY} is not an ExportManifest: ${(err as Error).message}`);
  }
  if (manifest.formatVersion > EXPORT_FORMAT_VERSION) {
    throw archiveError(
      archive,
      `${basename(archive)}: ${MANIFEST_ENTRY} has format_version ${manifest.formatVersion}, this SDK reads format_version ${EXPORT_FORMAT_VERSION} only: upgrade modelreg to import it`,
      Code.Unimplemented,
      ArchiveErrorReason.FormatTooNew,
    );
  }
  if (manifest.formatVersion < 1) throw corrupt(archive, `${MANIFEST_ENTRY} has no format_version: not a modelreg export`);
  if (!manifest.version) throw corrupt(archive, `${MANIFEST_ENTRY} has no version`);
  const seen = new Set<string>();
  for (const f of manifest.files) {
    if (f.path === "" || seen.has(f.path)) throw corrupt(archive, `${MANIFEST_ENTRY} lists ${f.path === "" ? "a file without a path" : `${f.path} twice`}`);
    if (!/^[0-9a-f]{64}$/.test(f.sha256)) throw corrupt(archive, `${MANIFEST_ENTRY}: ${f.path} has no valid sha256`);
    if (f.sizeBytes < 0n) throw corrupt(archive, `${MANIFEST_ENTRY}: ${f.path} has a negative size`);
    seen.add(f.path);
  }
  return manifest;
}

/** Matches archive entries against the manifest: each listed file once, with its size, and nothing else. */
class EntryCheck {
  private readonly byPath: Map<string, VersionFile>;
  private readonly seen = new Set<string>();
  constructor(
    private readonly archive: string,
    manifest: ExportManifest,
  ) {
    this.byPath = new Map(manifest.files.map((f) => [f.path, f]));
  }
  entry(path: string, size: number): VersionFile {
    if (path === MANIFEST_ENTRY) throw corrupt(this.archive, `holds a second ${MANIFEST_ENTRY}`);
    const file = this.byPath.get(path);
    if (!file) throw corrupt(this.archive, `entry ${path} is not listed in ${MANIFEST_ENTRY}`);
    if (this.seen.has(path)) throw corrupt(this.archive, `holds ${path} twice`);
    if (BigInt(size) !== file.sizeBytes) throw corrupt(this.archive, `${path} is ${size} bytes in the archive, ${MANIFEST_ENTRY} says ${file.sizeBytes}`);
    this.seen.add(path);
    return file;
  }
  done(): void {
    const missing = [...this.byPath.keys()].filter((p) => !this.seen.has(p));
    if (missing.length > 0) {
      const list = missing.slice(0, 5).join(", ") + (missing.length > 5 ? `, and ${missing.length - 5} more` : "");
      throw corrupt(this.archive, `${missing.length === 1 ? "file" : "files"} ${list} listed in ${MANIFEST_ENTRY} ${missing.length === 1 ? "is" : "are"} not in the archive`);
    }
  }
}

function hashMismatch(archive: string, file: VersionFile, got: string): ConnectError {
  return corrupt(archive, `${file.path} is corrupt: its bytes hash to ${got}, ${MANIFEST_ENTRY} says ${file.sha256}; nothing was imported`);
}

/** Opens and checks an export archive; call close() when done with its files. */
export async function readArchive(path: string, options: ReadArchiveOptions = {}): Promise<OpenedArchive> {
  const kind = await detectArchiveKind(path);
  try {
    if (kind === "tar") return await readTar(path, options);
    if (kind === "zip") return await readZip(path, options);
    return await readTarGz(path, options);
  } catch (err) {
    throw readFailure(path, `cannot be read as ${kind}`, err, options.signal);
  }
}

function totalSize(manifest: ExportManifest): number {
  return manifest.files.reduce((n, f) => n + Number(f.sizeBytes), 0);
}

/** sha256 of bytes [offset, offset + size) of an open file. */
async function hashRange(fh: FileHandle, offset: number, size: number, buf: Buffer, signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<string> {
  const hash = createHash("sha256");
  let done = 0;
  while (done < size) {
    signal?.throwIfAborted();
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - done), offset + done);
    if (bytesRead === 0) throw new Error(`the file ends at byte ${offset + done}, inside a file's data`);
    hash.update(buf.subarray(0, bytesRead));
    done += bytesRead;
    onBytes(done);
  }
  return hash.digest("hex");
}

/** Hashes every in-place file of the archive and compares with the manifest. */
async function verifyRanges(archive: string, fh: FileHandle, files: ArchiveFile[], manifest: ExportManifest, options: ReadArchiveOptions): Promise<void> {
  const progress = progressReporter(totalSize(manifest), options.onHashProgress);
  options.onHashProgress?.({ bytesDone: 0, bytesTotal: progress.bytesTotal });
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  for (const f of files) {
    if (f.localPath !== archive) continue; // unpacked and checked already
    const got = await hashRange(fh, f.offset, Number(f.file.sizeBytes), buf, options.signal, (n) => progress.set(f.file.path, n, f.file.path));
    if (got !== f.file.sha256) throw hashMismatch(archive, f.file, got);
  }
}

async function readTar(path: string, options: ReadArchiveOptions): Promise<OpenedArchive> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    let entries: Awaited<ReturnType<typeof indexTar>>;
    try {
      entries = await indexTar(fh, size);
    } catch (err) {
      throw err instanceof TarFormatError ? corrupt(path, err.message) : err;
    }
    // Directory entries (which other tools write) are passed over.
    const [first, ...rest] = entries.filter((e) => e.type !== "directory");
    if (!first || first.path !== MANIFEST_ENTRY || first.type !== "file") throw corrupt(path, `its first entry is not ${MANIFEST_ENTRY}: not a modelreg export`);
    if (first.size > MAX_MANIFEST_BYTES) throw corrupt(path, `${MANIFEST_ENTRY} is too large (${first.size} bytes)`);
    const bytes = Buffer.alloc(first.size);
    if (first.size > 0) await fh.read(bytes, 0, first.size, first.offset);
    const manifest = parseManifest(path, bytes);
    const check = new EntryCheck(path, manifest);
    const byPath = new Map<string, ArchiveFile>();
    for (const e of rest) {
      if (e.type !== "file") throw corrupt(path, `entry ${e.path} is not a regular file (tar type ${JSON.stringify(e.type)})`);
      byPath.set(e.path, { file: check.entry(e.path, e.size), localPath: path, offset: e.offset });
    }
    check.done();
    const files = manifest.files.map((f) => byPath.get(f.path)!);
    await verifyRanges(path, fh, files, manifest, options);
    return { kind: "tar", manifest, files, close: async () => {} };
  } finally {
    await fh.close();
  }
}

/** A temp directory for unpacked files: beside the archive when writable, else in os.tmpdir(). */
async function unpackDir(archive: string, options: ReadArchiveOptions): Promise<string> {
  if (options.tmpDir) return mkdtemp(join(options.tmpDir, ".modelreg-import-"));
  try {
    return await mkdtemp(join(dirname(archive), ".modelreg-import-"));
  } catch {
    return mkdtemp(join(tmpdir(), "modelreg-import-"));
  }
}

/** Writes `source` to `dest` (a new file) while hashing it; resolves with the sha256 and byte count. */
async function writeHashed(source: AsyncIterable<Uint8Array>, dest: string, signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  const out = await open(dest, "wx", 0o600);
  try {
    for await (const chunk of source) {
      signal?.throwIfAborted();
      hash.update(chunk);
      for (let off = 0; off < chunk.length; ) off += (await out.write(chunk, off, chunk.length - off)).bytesWritten;
      size += chunk.length;
      onBytes(size);
    }
  } finally {
    await out.close();
  }
  return { sha256: hash.digest("hex"), size };
}

async function readAll(source: AsyncIterable<Uint8Array>, limit: number, what: string, archive: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of source) {
    n += c.length;
    if (n > limit) throw corrupt(archive, `${what} is too large (over ${limit} bytes)`);
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks);
}

async function readTarGz(path: string, options: ReadArchiveOptions): Promise<OpenedArchive> {
  const dir = await unpackDir(path, options);
  const close = () => rm(dir, { recursive: true, force: true });
  try {
    const extract = tar.extract();
    const input = createReadStream(path, { highWaterMark: 1 << 20 });
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    // Errors of the file or of gunzip end the extract, whose iterator below then throws.
    input.on("error", (err) => extract.destroy(err));
    gunzip.on("error", (err) => extract.destroy(err));
    input.pipe(gunzip).pipe(extract);
    let manifest: ExportManifest | undefined;
    let check: EntryCheck | undefined;
    let progress: ReturnType<typeof progressReporter> | undefined;
    const byPath = new Map<string, ArchiveFile>();
    let n = 0;
    try {
      for await (const entry of extract) {
        const h = entry.header;
        const name = entryPath(h.name);
        if (h.type === "directory") {
          entry.resume();
          continue;
        }
        if (!manifest) {
          if (name !== MANIFEST_ENTRY || h.type !== "file") throw corrupt(path, `its first entry is not ${MANIFEST_ENTRY}: not a modelreg export`);
          manifest = parseManifest(path, await readAll(entry as AsyncIterable<Uint8Array>, MAX_MANIFEST_BYTES, MANIFEST_ENTRY, path));
          check = new EntryCheck(path, manifest);
          progress = progressReporter(totalSize(manifest), options.onHashProgress);
          options.onHashProgress?.({ bytesDone: 0, bytesTotal: progress.bytesTotal });
          continue;
        }
        if (h.type !== "file" && h.type !== "contiguous-file") throw corrupt(path, `entry ${name} is not a regular file (tar type ${h.type})`);
        const file = check!.entry(name, h.size ?? 0);
        // Numbered, not by path: nothing in the archive chooses where a file lands.
        const dest = join(dir, String(n++));
        const got = await writeHashed(entry as AsyncIterable<Uint8Array>, dest, options.signal, (b) => progress!.set(file.path, b, file.path));
        if (got.size !== Number(file.sizeBytes)) throw corrupt(path, `${file.path} is ${got.size} bytes in the archive, ${MANIFEST_ENTRY} says ${file.sizeBytes}`);
        if (got.sha256 !== file.sha256) throw hashMismatch(path, file, got.sha256);
        byPath.set(file.path, { file, localPath: dest, offset: 0 });
      }
    } catch (err) {
      input.destroy();
      gunzip.destroy();
      // Not naming the entry being read: gunzip reports the end of its input before tar has seen all of its output.
      throw readFailure(path, "cannot be read as tar.gz", err, options.signal);
    }
    if (!manifest) throw corrupt(path, `is empty: no ${MANIFEST_ENTRY}`);
    check!.done();
    return { kind: "tar.gz", manifest, files: manifest.files.map((f) => byPath.get(f.path)!), close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function readZip(path: string, options: ReadArchiveOptions): Promise<OpenedArchive> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: false });
  } catch (err) {
    throw readFailure(path, "cannot be read as zip", err, options.signal);
  }
  let dir: string | undefined;
  const removeDir = async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  const fh = await open(path, "r");
  try {
    const entries: yauzl.Entry[] = [];
    try {
      for await (const e of zip.eachEntry()) entries.push(e);
    } catch (err) {
      throw readFailure(path, "cannot be read as zip", err, options.signal);
    }
    // Directory entries (which other tools write) are passed over.
    const [first, ...rest] = entries.filter((e) => !e.fileName.endsWith("/"));
    if (!first || entryPath(first.fileName) !== MANIFEST_ENTRY) throw corrupt(path, `its first entry is not ${MANIFEST_ENTRY}: not a modelreg export`);
    if (first.uncompressedSize > MAX_MANIFEST_BYTES) throw corrupt(path, `${MANIFEST_ENTRY} is too large (${first.uncompressedSize} bytes)`);
    const manifest = parseManifest(path, await withEntry(zip, first, (stream) => readAll(stream, MAX_MANIFEST_BYTES, MANIFEST_ENTRY, path)));
    const check = new EntryCheck(path, manifest);
    const byPath = new Map<string, ArchiveFile>();
    const compressed: { entry: yauzl.Entry; file: VersionFile }[] = [];
    for (const e of rest) {
      if (e.isEncrypted()) throw corrupt(path, `entry ${e.fileName} is encrypted`);
      const file = check.entry(entryPath(e.fileName), e.uncompressedSize);
      if (e.compressionMethod === 0) {
        const { fileDataStart } = await zip.readLocalFileHeaderPromise(e, { minimal: true });
        byPath.set(file.path, { file, localPath: path, offset: fileDataStart });
      } else {
        if (!e.canDecodeFileData()) throw corrupt(path, `entry ${e.fileName} uses compression method ${e.compressionMethod}, which cannot be read`);
        compressed.push({ entry: e, file });
      }
    }
    check.done();
    const files = manifest.files.map((f) => byPath.get(f.path) ?? { file: f, localPath: "", offset: 0 });
    const slots = new Map(files.map((f) => [f.file.path, f]));
    // Compressed entries (a zip repacked by another tool): unpacked and checked first.
    if (compressed.length > 0) {
      dir = await unpackDir(path, options);
      const progress = progressReporter(
        compressed.reduce((n, c) => n + Number(c.file.sizeBytes), 0),
        options.onHashProgress,
      );
      let n = 0;
      for (const { entry, file } of compressed) {
        const dest = join(dir, String(n++));
        let got: { sha256: string; size: number };
        try {
          got = await withEntry(zip, entry, (stream) => writeHashed(stream, dest, options.signal, (b) => progress.set(file.path, b, file.path)));
        } catch (err) {
          throw readFailure(path, `${file.path} cannot be inflated`, err, options.signal);
        }
        if (got.sha256 !== file.sha256) throw hashMismatch(path, file, got.sha256);
        slots.get(file.path)!.localPath = dest;
      }
    }
    await verifyRanges(path, fh, files, manifest, options);
    return { kind: "zip", manifest, files, close: removeDir };
  } catch (err) {
    await removeDir();
    throw err;
  } finally {
    await fh.close();
    zip.close();
  }
}
