import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SignedUrlError, type SignedUrlReason } from "./errors.js";
import { createUrlSigner, type UrlSigner } from "./signed-urls.js";

const T0 = Date.UTC(2025, 0, 1);
const oldKey = { id: "k1", secret: randomBytes(32) };
const newKey = { id: "k2", secret: randomBytes(32) };

function clock(start = T0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function reasonOf(fn: () => unknown): SignedUrlReason {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SignedUrlError);
    return (e as SignedUrlError).reason;
  }
  throw new Error("expected a SignedUrlError");
}

/** Returns `url` with query parameter `name` set to `value`. */
function withParam(url: string, name: string, value: string): string {
  const u = new URL(url, "http://h");
  u.searchParams.set(name, value);
  return `${u.pathname}${u.search}`;
}

describe("signed URLs", () => {
  const c = clock();
  const signer = createUrlSigner({ keys: [oldKey], now: c.now });
  const url = signer.sign({ path: "/files/ws-a/obj-1", workspace: "ws-a", object: "obj-1", expiresInSeconds: 600 });

  it("round-trips", () => {
    expect(url).toMatch(/^\/files\/ws-a\/obj-1\?ws=ws-a&obj=obj-1&exp=\d+&kid=k1&sig=[\w-]{43}$/);
    expect(signer.verify(url, "GET")).toEqual({ workspace: "ws-a", object: "obj-1", expiresAt: new Date(T0 + 600_000) });
    // A full URL (any host) and a URL object verify too.
    expect(signer.verify(`https://registry.example${url}`, "GET").object).toBe("obj-1");
    expect(signer.verify(new URL(url, "http://localhost:8080"), "GET").workspace).toBe("ws-a");
  });

  it("round-trips values that need escaping, signing the path as the URL parser sees it", () => {
    const u = signer.sign({ path: "/files/a b/ü", workspace: "w s&x=1", object: "o/1?#", method: "PUT", expiresInSeconds: 1 });
    expect(u.startsWith("/files/a%20b/%C3%BC?")).toBe(true);
    expect(signer.verify(u, "PUT")).toMatchObject({ workspace: "w s&x=1", object: "o/1?#" });
  });

  it("refuses a URL with the path, workspace, object, exp, kid, sig or method changed", () => {
    const cases: [string, string, SignedUrlReason][] = [
      [url.replace("/obj-1?", "/obj-2?"), "GET", "BAD_SIGNATURE"],
      [url.replace("/files/", "/files//"), "GET", "BAD_SIGNATURE"],
      [withParam(url, "ws", "ws-b"), "GET", "BAD_SIGNATURE"],
      [withParam(url, "obj", "obj-2"), "GET", "BAD_SIGNATURE"],
      [withParam(url, "exp", String(T0 / 1000 + 6000)), "GET", "BAD_SIGNATURE"],
      [withParam(url, "kid", "k9"), "GET", "UNKNOWN_KEY"],
      [withParam(url, "sig", signer.sign({ path: "/files/ws-a/obj-2", workspace: "ws-a", object: "obj-1", expiresInSeconds: 600 }).slice(-43)), "GET", "BAD_SIGNATURE"],
      [url, "PUT", "BAD_SIGNATURE"],
      [url, "HEAD", "BAD_SIGNATURE"],
    ];
    for (const [u, method, reason] of cases) expect(reasonOf(() => signer.verify(u, method)), `${method} ${u}`).toBe(reason);
  });

  it("names the access key it was issued to, which can be neither changed, dropped nor added", () => {
    const issued = signer.sign({ path: "/files/ws-a/obj-1", workspace: "ws-a", object: "obj-1", expiresInSeconds: 600, accessKeyId: "AKAAAAAAAAAAAAAAAA" });
    expect(issued).toMatch(/&kid=k1&ak=AKAAAAAAAAAAAAAAAA&sig=/);
    expect(signer.verify(issued, "GET")).toEqual({ workspace: "ws-a", object: "obj-1", expiresAt: new Date(T0 + 600_000), accessKeyId: "AKAAAAAAAAAAAAAAAA" });
    expect(reasonOf(() => signer.verify(withParam(issued, "ak", "AKBBBBBBBBBBBBBBBB"), "GET"))).toBe("BAD_SIGNATURE");
    const dropped = new URL(issued, "http://h");
    dropped.searchParams.delete("ak");
    expect(reasonOf(() => signer.verify(dropped, "GET"))).toBe("BAD_SIGNATURE");
    expect(reasonOf(() => signer.verify(withParam(url, "ak", "AKAAAAAAAAAAAAAAAA"), "GET"))).toBe("BAD_SIGNATURE");
    expect(reasonOf(() => signer.verify(`${issued}&ak=AKAAAAAAAAAAAAAAAA`, "GET"))).toBe("MALFORMED");
    expect(reasonOf(() => signer.verify(withParam(issued, "ak", "a b"), "GET"))).toBe("MALFORMED");
    // With no key (AUTH=off) the URL names none.
    expect(signer.sign({ path: "/x", workspace: "w", object: "o", expiresInSeconds: 60, accessKeyId: "" })).not.toContain("ak=");
    expect(() => signer.sign({ path: "/x", workspace: "w", object: "o", expiresInSeconds: 60, accessKeyId: "a.b" })).toThrow(RangeError);
  });

  it("does not let bytes shift between fields", () => {
    // Same concatenation "ws-aobj-1" with the boundary moved.
    const shifted = withParam(withParam(url, "ws", "ws-ao"), "obj", "bj-1");
    expect(reasonOf(() => signer.verify(shifted, "GET"))).toBe("BAD_SIGNATURE");
  });

  it("refuses a kid signed by another key", () => {
    const other = createUrlSigner({ keys: [{ id: "k1", secret: randomBytes(32) }], now: c.now });
    const forged = other.sign({ path: "/files/ws-a/obj-1", workspace: "ws-a", object: "obj-1", expiresInSeconds: 600 });
    expect(reasonOf(() => signer.verify(forged, "GET"))).toBe("BAD_SIGNATURE");
  });

  it("refuses an expired URL, and only after checking the signature", () => {
    const c2 = clock();
    const s = createUrlSigner({ keys: [oldKey], now: c2.now });
    const u = s.sign({ path: "/x", workspace: "w", object: "o", expiresInSeconds: 60 });
    c2.advance(59_999);
    expect(s.verify(u, "GET").object).toBe("o");
    c2.advance(1);
    expect(reasonOf(() => s.verify(u, "GET"))).toBe("EXPIRED");
    expect(reasonOf(() => s.verify(withParam(u, "ws", "w2"), "GET"))).toBe("BAD_SIGNATURE");
  });

  it("keeps URLs of the old key working after rotation", () => {
    const c2 = clock();
    const before = createUrlSigner({ keys: [oldKey], now: c2.now });
    const u = before.sign({ path: "/x", workspace: "w", object: "o", expiresInSeconds: 60 });
    const after = createUrlSigner({ keys: [newKey, oldKey], now: c2.now });
    expect(after.verify(u, "GET").object).toBe("o");
    const fresh = after.sign({ path: "/x", workspace: "w", object: "o", expiresInSeconds: 60 });
    expect(new URL(fresh, "http://h").searchParams.get("kid")).toBe("k2");
    // Once the old key is dropped, its URLs stop working.
    const later = createUrlSigner({ keys: [newKey], now: c2.now });
    expect(reasonOf(() => later.verify(u, "GET"))).toBe("UNKNOWN_KEY");
    expect(later.verify(fresh, "GET").object).toBe("o");
  });

  it("ignores unrelated query parameters but refuses repeated or missing signed ones", () => {
    expect(signer.verify(`${url}&utm=x&download=1`, "GET").object).toBe("obj-1");
    for (const name of ["ws", "obj", "exp", "kid", "sig"]) {
      const value = new URL(url, "http://h").searchParams.get(name)!;
      expect(reasonOf(() => signer.verify(`${url}&${name}=${value}`, "GET")), `repeated ${name}`).toBe("MALFORMED");
      const without = new URL(url, "http://h");
      without.searchParams.delete(name);
      expect(reasonOf(() => signer.verify(without, "GET")), `without ${name}`).toBe("MISSING");
    }
    expect(reasonOf(() => signer.verify("/files/ws-a/obj-1", "GET"))).toBe("MISSING");
  });

  it("refuses malformed parameters", () => {
    const sig = new URL(url, "http://h").searchParams.get("sig")!;
    // The last character carries 2 unused bits; another spelling of the same bytes.
    const last = sig.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelled = sig.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
    for (const [name, value] of [
      ["exp", "soon"],
      ["exp", "-1"],
      ["exp", "1e10"],
      ["exp", "0123"],
      ["kid", ""],
      ["kid", "a b"],
      ["sig", ""],
      ["sig", sig.slice(1)],
      ["sig", `${sig}A`],
      ["sig", `${sig.slice(1)}=`],
      ["sig", respelled],
    ] as const)
      expect(reasonOf(() => signer.verify(withParam(url, name, value), "GET")), `${name}=${value}`).toBe("MALFORMED");
  });

  it("gives messages that do not say which part was wrong", () => {
    const a = (() => {
      try {
        signer.verify(withParam(url, "ws", "ws-b"), "GET");
      } catch (e) {
        return (e as Error).message;
      }
    })();
    const b = (() => {
      try {
        signer.verify(url, "PUT");
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(a).toBe(b);
    expect(a).not.toMatch(/ws-b|ws-a|PUT|k1/);
  });

  it("refuses bad sign requests and bad keys", () => {
    const s: UrlSigner = signer;
    const ok = { path: "/x", workspace: "w", object: "o", expiresInSeconds: 60 };
    expect(() => s.sign({ ...ok, expiresInSeconds: 0 })).toThrow(RangeError);
    expect(() => s.sign({ ...ok, expiresInSeconds: -5 })).toThrow(RangeError);
    expect(() => s.sign({ ...ok, expiresInSeconds: 1.5 })).toThrow(RangeError);
    expect(() => s.sign({ ...ok, expiresInSeconds: 7 * 24 * 3600 + 1 })).toThrow(/from 1 to 604800/);
    expect(s.sign({ ...ok, expiresInSeconds: 7 * 24 * 3600 })).toContain("sig=");
    for (const path of ["x", "//evil.example/x", "/x?a=1", "/x#f", "/x\\y"]) expect(() => s.sign({ ...ok, path })).toThrow(RangeError);
    expect(() => s.sign({ ...ok, workspace: "" })).toThrow(RangeError);
    expect(() => s.sign({ ...ok, object: "\uD800" })).toThrow(RangeError);
    expect(() => createUrlSigner({ keys: [] })).toThrow(RangeError);
    expect(() => createUrlSigner({ keys: [{ id: "k", secret: randomBytes(16) }] })).toThrow(/at least 32/);
    expect(() => createUrlSigner({ keys: [oldKey, { ...oldKey }] })).toThrow(/twice/);
    expect(() => createUrlSigner({ keys: [{ id: "a b", secret: randomBytes(32) }] })).toThrow(RangeError);
    const short = createUrlSigner({ keys: [oldKey], maxExpiresInSeconds: 60 });
    expect(() => short.sign({ ...ok, expiresInSeconds: 61 })).toThrow(RangeError);
  });

  it("is not affected by the caller changing the secret buffer afterwards", () => {
    const secret = randomBytes(32);
    const s = createUrlSigner({ keys: [{ id: "k", secret }], now: c.now });
    const u = s.sign({ path: "/x", workspace: "w", object: "o", expiresInSeconds: 60 });
    secret.fill(0);
    expect(s.verify(u, "GET").object).toBe("o");
  });
});
