// The settings added for speed and memory: their defaults, how they are
// turned off, and what a wrong value is told.
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("prepares PostgreSQL statements and grows the heap by 50% unless told otherwise", () => {
    const c = loadConfig({});
    expect(c.databasePreparedStatements).toBe(true);
    expect(c.heapGrowingPercent).toBe(50);
    expect(c.authEnabled).toBe(true);
  });

  it("takes off and 0 (V8's own growth)", () => {
    const c = loadConfig({ DATABASE_PREPARED_STATEMENTS: " OFF ", HEAP_GROWING_PERCENT: "0", AUTH: "off" });
    expect(c.databasePreparedStatements).toBe(false);
    expect(c.heapGrowingPercent).toBe(0);
    expect(c.authEnabled).toBe(false);
  });

  it("names the setting and what it takes when a value is wrong", () => {
    expect(() => loadConfig({ DATABASE_PREPARED_STATEMENTS: "yes" })).toThrow("DATABASE_PREPARED_STATEMENTS=yes is not valid: use on or off");
    expect(() => loadConfig({ HEAP_GROWING_PERCENT: "-5" })).toThrow("HEAP_GROWING_PERCENT=-5 is not valid: expected a whole number from 0 to 1000");
    expect(() => loadConfig({ AUTH: "maybe" })).toThrow("AUTH=maybe is not valid: use on or off");
  });
});

describe("metrics listener", () => {
  it("is off by default, and listens on HOST unless METRICS_HOST says otherwise", () => {
    expect(loadConfig({})).toMatchObject({ metricsPort: undefined, metricsHost: "127.0.0.1" });
    expect(loadConfig({ METRICS_PORT: "0" })).toMatchObject({ metricsPort: 0 });
    expect(loadConfig({ METRICS_PORT: "9464", HOST: "0.0.0.0" })).toMatchObject({ metricsPort: 9464, metricsHost: "0.0.0.0" });
    expect(loadConfig({ METRICS_PORT: "9464", HOST: "0.0.0.0", METRICS_HOST: "10.0.0.5" })).toMatchObject({ metricsPort: 9464, metricsHost: "10.0.0.5" });
  });

  it("refuses a port that is not one, the API's own port, and a METRICS_HOST without a port", () => {
    expect(() => loadConfig({ METRICS_PORT: "x" })).toThrow("METRICS_PORT=x is not valid: expected a whole number from 0 to 65535");
    expect(() => loadConfig({ METRICS_PORT: "8080" })).toThrow("METRICS_PORT=8080 is the API's PORT: metrics need a port of their own (e.g. 9464), or unset for none");
    expect(() => loadConfig({ METRICS_HOST: "0.0.0.0" })).toThrow("METRICS_HOST is set but METRICS_PORT is not");
  });
});
