// A self-signed certificate for localhost and 127.0.0.1, made by the real
// openssl (as an operator would) in a temp directory, for TLS tests.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCert {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  remove(): void;
}

/** Why TLS tests cannot run here ("" when openssl is there). */
export function opensslMissing(): string {
  const r = spawnSync("openssl", ["version"], { encoding: "utf8" });
  return r.status === 0 ? "" : " (skipped: openssl is not installed)";
}

/** A fresh key and self-signed certificate (EC P-256, valid 2 days) with subjectAltName localhost, 127.0.0.1 and ::1. */
export function makeTestCert(cn = "localhost"): TestCert {
  const dir = mkdtempSync(join(tmpdir(), "modelreg-tls-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const r = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", `/CN=${cn}`,
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1", "-keyout", keyFile, "-out", certFile],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr || r.error?.message}`);
  return { dir, certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
