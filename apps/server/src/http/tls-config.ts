// TLS from the environment: TLS_CERT_FILE and TLS_KEY_FILE, both or
// neither, read once at start. Every way they can be wrong (one without the
// other, unreadable, not PEM, an encrypted key, a key of another
// certificate) is a ConfigError that names the file and what to do, so the
// server refuses to start instead of failing each handshake later.
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { ConfigError } from "../config.js";

/** For the server's --help, in the shape of SETTINGS in ../config.ts. */
export const TLS_SETTINGS = [
  {
    name: "TLS_CERT_FILE",
    default: "",
    help: "PEM certificate chain, the server's certificate first; with TLS_KEY_FILE the port serves HTTPS only (HTTP/2 and HTTP/1.1 chosen by ALPN) and signed URLs use https",
  },
  { name: "TLS_KEY_FILE", default: "", help: "PEM private key (unencrypted) of TLS_CERT_FILE's certificate; both files are read at start, so restart to load renewed ones" },
];

/** What serve() needs for HTTPS. */
export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
}

/** The certificate and key named by the environment, checked; undefined when neither is set. */
export function tlsFromEnv(env: NodeJS.ProcessEnv): TlsCredentials | undefined {
  const certFile = env.TLS_CERT_FILE?.trim() || undefined;
  const keyFile = env.TLS_KEY_FILE?.trim() || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    const [set, unset] = certFile ? ["TLS_CERT_FILE", "TLS_KEY_FILE"] : ["TLS_KEY_FILE", "TLS_CERT_FILE"];
    throw new ConfigError(`${set} is set but ${unset} is not: set both to serve HTTPS, or neither for cleartext`);
  }
  const cert = read("TLS_CERT_FILE", certFile);
  const key = read("TLS_KEY_FILE", keyFile);
  const x509 = certificateOf(cert, certFile);
  const privateKey = privateKeyOf(key, keyFile);
  if (!x509.checkPrivateKey(privateKey))
    throw new ConfigError(
      `TLS_KEY_FILE=${keyFile} is not the key of the certificate in TLS_CERT_FILE=${certFile} (${x509.subject.replace(/\n/g, ", ")}): give the key the certificate was issued for`,
    );
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new ConfigError(`TLS_CERT_FILE=${certFile} with TLS_KEY_FILE=${keyFile} cannot be used: ${(e as Error).message}`);
  }
  return { cert, key };
}

/** A warning when the certificate has expired, is not valid yet, or expires within `soonDays`; undefined otherwise. */
export function certificateWarning(cert: Buffer, now = Date.now(), soonDays = 14): { message: string; validFrom: string; validTo: string } | undefined {
  const x509 = new X509Certificate(cert);
  const from = Date.parse(x509.validFrom);
  const to = Date.parse(x509.validTo);
  const dates = { validFrom: new Date(from).toISOString(), validTo: new Date(to).toISOString() };
  if (to <= now) return { message: `the TLS certificate (TLS_CERT_FILE) expired on ${dates.validTo}: clients will refuse it; renew it and restart`, ...dates };
  if (from > now) return { message: `the TLS certificate (TLS_CERT_FILE) is not valid before ${dates.validFrom}: clients will refuse it until then`, ...dates };
  const days = Math.floor((to - now) / 86_400_000);
  if (days < soonDays) return { message: `the TLS certificate (TLS_CERT_FILE) expires in ${days} day(s), on ${dates.validTo}: renew it and restart`, ...dates };
  return undefined;
}

function read(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.code === "EACCES" ? "permission denied" : err.code === "EISDIR" ? "it is a directory" : err.message;
    throw new ConfigError(`${name}=${path} cannot be read: ${why}`);
  }
}

function certificateOf(pem: Buffer, path: string): X509Certificate {
  const hint = `TLS_CERT_FILE=${path} is not a PEM certificate: expected a file starting with -----BEGIN CERTIFICATE-----`;
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new ConfigError(hint);
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new ConfigError(`${hint} (${(e as Error).message})`);
  }
}

function privateKeyOf(pem: Buffer, path: string): KeyObject {
  const text = pem.toString("latin1");
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text))
    throw new ConfigError(`TLS_KEY_FILE=${path} is encrypted: give it unencrypted (e.g. openssl pkey -in ${path} -out key.pem), readable by the server only`);
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(text))
    throw new ConfigError(`TLS_KEY_FILE=${path} is not a PEM private key: expected a file starting with -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY)`);
  try {
    return createPrivateKey(pem);
  } catch (e) {
    throw new ConfigError(`TLS_KEY_FILE=${path} is not a valid PEM private key (${(e as Error).message})`);
  }
}
