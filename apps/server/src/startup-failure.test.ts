// What a startup failure tells the operator to fix, for the causes the
// end-to-end test (test/server-config.test.ts) cannot make on every machine.
import { describe, expect, it } from "vitest";
import { startupFailureMessage } from "./startup-failure.js";

const err = (props: Record<string, unknown>, message = "boom") => Object.assign(new Error(message), props);
const db = { databaseUrl: "postgres://reg:hunter2-secret@db.internal:6543/registry", dataDir: "/srv/modelreg", port: 8080, host: "0.0.0.0", metricsPort: 9464 };

describe("startupFailureMessage", () => {
  it("names the PostgreSQL user, database or host to correct, never the password", () => {
    const messages = [
      startupFailureMessage(err({ code: "28P01" }), db),
      startupFailureMessage(err({ code: "3D000" }), db),
      startupFailureMessage(err({ code: "ENOTFOUND" }), db),
      startupFailureMessage(err({ code: "CONNECT_TIMEOUT" }), db),
    ];
    expect(messages).toEqual([
      'PostgreSQL refused the login of user "reg" at db.internal:6543: check the user and password in DATABASE_URL',
      'the database "registry" does not exist on the PostgreSQL server at db.internal:6543: create it (createdb registry) or correct DATABASE_URL',
      "cannot connect to the database: the host in DATABASE_URL (db.internal:6543) is not found; correct DATABASE_URL",
      "cannot connect to the database at db.internal:6543 (CONNECT_TIMEOUT): check that PostgreSQL runs there and that DATABASE_URL is right; DATABASE_CONNECT_TIMEOUT_MS bounds each attempt",
    ]);
    expect(messages.join()).not.toContain("hunter2");
  });

  it("names PORT or METRICS_PORT for a port that cannot be had", () => {
    expect(startupFailureMessage(err({ code: "EACCES", syscall: "listen", address: "0.0.0.0", port: 80 }), { ...db, port: 80 })).toBe(
      "cannot listen on 0.0.0.0:80: not allowed (ports below 1024 need privileges); set PORT to 1024 or above",
    );
    expect(startupFailureMessage(err({ code: "EADDRINUSE", syscall: "listen", address: "0.0.0.0", port: 9464 }), db)).toBe(
      "cannot listen on 0.0.0.0:9464: another process uses that port; stop it or set METRICS_PORT to a free port",
    );
    expect(startupFailureMessage(err({ code: "EADDRNOTAVAIL", syscall: "listen", address: "10.9.9.9", port: 8080 }), db)).toBe(
      "cannot listen on 10.9.9.9:8080: this machine has no such address; set HOST to one of its addresses (or 0.0.0.0)",
    );
  });

  it("says what failed when it knows no better", () => {
    expect(startupFailureMessage(new Error("something else"), {})).toBe("failed to start: something else");
  });
});
