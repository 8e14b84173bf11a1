import semverOracle from "semver";
import { describe, expect, it } from "vitest";
import { autoNumberingAfter, autoVersion, compareVersions, nextVersion, parseSemver } from "./semver.js";

describe("parseSemver", () => {
  it("accepts semantic versions", () => {
    for (const v of ["0.0.0", "1.0.0", "2.1.0-rc.1", "1.0.0+cu121", "1.0.0-alpha-1.0+build.7", "999999999999999.0.0"]) {
      expect(parseSemver(v).error, v).toBeUndefined();
    }
  });

  it("refuses what is not one, saying why", () => {
    expect(parseSemver("1.0").error).toMatch(/not a semantic version/);
    expect(parseSemver("v1.0.0").error).toMatch(/not a semantic version/);
    expect(parseSemver("01.0.0").error).toMatch(/not a semantic version/);
    expect(parseSemver("1.0.0-01").error).toMatch(/leading zero/);
    expect(parseSemver("1.0.0-").error).toMatch(/not a semantic version/);
    expect(parseSemver("1.0.0-a..b").error).toMatch(/not a semantic version/);
    expect(parseSemver("1000000000000000.0.0").error).toMatch(/more than 15 digits/);
    expect(parseSemver(`1.0.0-${"a".repeat(130)}`).error).toMatch(/longer than 128/);
    expect(parseSemver("1.0.0 ").error).toMatch(/not a semantic version/);
  });
});

describe("sort key", () => {
  it("orders the semver.org example by precedence", () => {
    const ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0-0", "2.0.0", "10.0.0"];
    const keys = ordered.map((v) => parseSemver(v).sortKey!);
    expect([...keys].sort()).toEqual(keys);
  });

  it("agrees with the semver package on 5,000 random pairs", () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const ids = ["alpha", "beta", "rc", "a-b", "a", "0", "1", "2", "10", "11", "x1", "Z", "-"];
    const gen = () => {
      const core = `${rnd(3)}.${rnd(12)}.${rnd(12)}`;
      if (rnd(3) === 0) return core;
      const pre = Array.from({ length: 1 + rnd(3) }, () => ids[rnd(ids.length)]).join(".");
      return `${core}-${pre}`;
    };
    for (let i = 0; i < 5000; i++) {
      const a = gen();
      const b = gen();
      const expected = Math.sign(semverOracle.compare(a, b));
      const ka = parseSemver(a).sortKey!;
      const kb = parseSemver(b).sortKey!;
      const got = ka === kb ? 0 : ka < kb ? -1 : 1;
      expect(got, `${a} vs ${b}`).toBe(expected);
    }
  });

  it("ignores build metadata for precedence but tells versions apart by text", () => {
    expect(parseSemver("1.0.0+a").sortKey).toBe(parseSemver("1.0.0").sortKey);
    expect(compareVersions("1.0.0+a", "1.0.0+b")).toBe(-1);
    expect(compareVersions("1.0.0+b", "1.0.0-rc.1")).toBe(1);
  });
});

describe("nextVersion", () => {
  it("starts at 1.0.0, then bumps the patch of the highest", () => {
    expect(nextVersion("")).toBe("1.0.0");
    expect(nextVersion("1.4.2")).toBe("1.4.3");
    expect(nextVersion("1.4.9")).toBe("1.4.10");
    expect(nextVersion("1.0.0+cu121")).toBe("1.0.1");
  });
  it("releases a pre-release", () => {
    expect(nextVersion("2.0.0-rc.1")).toBe("2.0.0");
  });
});

describe("auto-numbering state", () => {
  it("assigns nextVersion(after) with the matching sort key", () => {
    for (const after of ["", "1.0.0", "1.0.9", "1.9.99", "2.0.0-rc.1", "3.1.4+build", "10.20.999999"]) {
      const next = autoVersion(autoNumberingAfter(after));
      expect(next.version).toBe(nextVersion(after));
      expect(next.sortKey).toBe(parseSemver(next.version).sortKey);
    }
  });
  it("defaults to 1.0.0 as the schema does (prefix 1.0., key A1A0, patch 0)", () => {
    expect(autoNumberingAfter("")).toEqual({ prefix: "1.0.", keyPrefix: "A1A0", patch: 0 });
  });
});
