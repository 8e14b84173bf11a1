// TLS_CERT_FILE / TLS_KEY_FILE: every way they can be wrong is refused at
// start, naming the file and what to do.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTestCert, opensslMissing, type TestCert } from "../testing/tls-cert.js";
import { certificateWarning, tlsFromEnv } from "./tls-config.js";

const skip = opensslMissing();

describe.skipIf(skip !== "")(`TLS settings${skip}`, () => {
  const made: TestCert[] = [];
  const cert = () => {
    const c = makeTestCert();
    made.push(c);
    return c;
  };
  afterAll(() => {
    for (const c of made) c.remove();
  });

  it("is off with neither, and reads both files when both are set", () => {
    expect(tlsFromEnv({})).toBeUndefined();
    expect(tlsFromEnv({ TLS_CERT_FILE: " ", TLS_KEY_FILE: "" })).toBeUndefined();
    const c = cert();
    expect(tlsFromEnv({ TLS_CERT_FILE: c.certFile, TLS_KEY_FILE: c.keyFile })).toEqual({ cert: c.cert, key: c.key });
  });

  it("warns of a certificate that has expired, is not valid yet, or expires soon", () => {
    const c = cert(); // valid for 2 days from now
    const day = 86_400_000;
    expect(certificateWarning(c.cert, Date.now() + 3 * day)?.message).toMatch(/^the TLS certificate \(TLS_CERT_FILE\) expired on .*: clients will refuse it; renew it and restart$/);
    expect(certificateWarning(c.cert, Date.now() - day)?.message).toMatch(/is not valid before /);
    expect(certificateWarning(c.cert)?.message).toMatch(/expires in 1 day\(s\), on /);
    expect(certificateWarning(c.cert, Date.now(), 1)).toBeUndefined();
  });

  it("refuses one without the other", () => {
    const c = cert();
    expect(() => tlsFromEnv({ TLS_CERT_FILE: c.certFile })).toThrow("TLS_CERT_FILE is set but TLS_KEY_FILE is not: set both to serve HTTPS, or neither for cleartext");
    expect(() => tlsFromEnv({ TLS_KEY_FILE: c.keyFile })).toThrow("TLS_KEY_FILE is set but TLS_CERT_FILE is not");
  });

  it("refuses a missing file, a file that is not PEM, an encrypted key and a key of another certificate", () => {
    const c = cert();
    const other = cert();
    const missing = join(c.dir, "nope.pem");
    expect(() => tlsFromEnv({ TLS_CERT_FILE: missing, TLS_KEY_FILE: c.keyFile })).toThrow(`TLS_CERT_FILE=${missing} cannot be read: no such file`);
    expect(() => tlsFromEnv({ TLS_CERT_FILE: c.certFile, TLS_KEY_FILE: c.dir })).toThrow(`TLS_KEY_FILE=${c.dir} cannot be read: it is a directory`);

    const junk = join(c.dir, "junk.pem");
    writeFileSync(junk, "hello\n");
    expect(() => tlsFromEnv({ TLS_CERT_FILE: junk, TLS_KEY_FILE: c.keyFile })).toThrow(`TLS_CERT_FILE=${junk} is not a PEM certificate`);
    expect(() => tlsFromEnv({ TLS_CERT_FILE: c.keyFile, TLS_KEY_FILE: c.keyFile })).toThrow("is not a PEM certificate"); // the two swapped
    expect(() => tlsFromEnv({ TLS_CERT_FILE: c.certFile, TLS_KEY_FILE: c.certFile })).toThrow(`TLS_KEY_FILE=${c.certFile} is not a PEM private key`);
    const broken = join(c.dir, "broken.pem");
    writeFileSync(broken, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    expect(() => tlsFromEnv({ TLS_CERT_FILE: broken, TLS_KEY_FILE: c.keyFile })).toThrow(`TLS_CERT_FILE=${broken} is not a PEM certificate`);

    const encrypted = join(c.dir, "encrypted.pem");
    const r = spawnSync("openssl", ["pkey", "-in", c.keyFile, "-aes256", "-passout", "pass:secret", "-out", encrypted], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(() => tlsFromEnv({ TLS_CERT_FILE: c.certFile, TLS_KEY_FILE: encrypted })).toThrow(`TLS_KEY_FILE=${encrypted} is encrypted: give it unencrypted`);

    expect(() => tlsFromEnv({ TLS_CERT_FILE: c.certFile, TLS_KEY_FILE: other.keyFile })).toThrow(
      `TLS_KEY_FILE=${other.keyFile} is not the key of the certificate in TLS_CERT_FILE=${c.certFile} (CN=localhost)`,
    );
  });
});
