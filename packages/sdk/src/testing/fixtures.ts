// Test data for transfer tests: deterministic bytes that differ per seed
// (so content is new to the server unless a test wants it shared), temp
// directories, and fresh versions.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RegistryClient } from "../client.js";

/** `size` bytes of a pattern unique to `seed`. */
export function patterned(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

let models = 0;

/** A new model with one new (PENDING) version; resolves with the version's name. */
export async function newVersion(client: RegistryClient, model?: string): Promise<string> {
  const name = model ?? `m${Date.now().toString(36)}-${models++}`;
  const parent = `workspaces/${client.workspace}/models/${name}`;
  await client.models.getModel({ name: parent }).catch(() => client.models.createModel({ parent: `workspaces/${client.workspace}`, modelId: name }));
  const { version } = await client.versions.createVersion({ parent });
  return version!.name;
}
