// Every end-to-end server starts with auth on and this server-wide admin key
// (MODELREG_ADMIN_KEY); clients in this process, and CLIs it spawns, use it
// through MODELREG_ACCESS_KEY. Suites that test other keys pass their own.
import { randomBytes } from "node:crypto";

export const E2E_ADMIN_TOKEN = `e2e-admin.${randomBytes(32).toString("base64url")}`;
process.env.MODELREG_ACCESS_KEY = E2E_ADMIN_TOKEN;
