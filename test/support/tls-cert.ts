// A self-signed certificate for localhost and 127.0.0.1, made with the real
// openssl in a temp directory, as an operator trying TLS would.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Why TLS suites cannot run here ("" when openssl is installed). */
export function opensslMissing(): string {
  const r = spawnSync("openssl", ["version"], { encoding: "utf8" });
  return r.status === 0 ? "" : " (skipped: openssl is not installed; apt-get install openssl)";
}

/** Writes cert.pem and key.pem (EC P-256, valid 2 days, subjectAltName localhost, 127.0.0.1, ::1) into `dir`. */
export function makeSelfSignedCert(dir: string): { certFile: string; keyFile: string; cert: Buffer } {
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const r = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1", "-keyout", keyFile, "-out", certFile],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr || r.error?.message}`);
  return { certFile, keyFile, cert: readFileSync(certFile) };
}
