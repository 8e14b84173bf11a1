// @modelreg/server as a library: build the app over a database and serve it
// (main.ts does exactly this from environment variables).
export { createApp } from "./app.js";
export type { App, AppDeps } from "./app.js";
export { loadConfig, helpText } from "./config.js";
export type { Config } from "./config.js";
export { ensureDefaultWorkspace } from "./domain/workspaces/index.js";
export { serve } from "./http/serve.js";
export { createLogger } from "./logger.js";
