// @modelreg/sdk: the typed TypeScript client of modelreg.
export { createRegistryClient, createTransport } from "./client.js";
export type { RegistryClient, RegistryClientOptions } from "./client.js";
export { Code, ConnectError, codeName, errorDetails } from "./errors.js";
export type { ErrorDetails } from "./errors.js";
export { modelName, splitRef, versionName, workspaceName } from "./names.js";
export { paginate } from "./paginate.js";
export type { Page } from "./paginate.js";
export type { CallOptions, Interceptor, Transport } from "@connectrpc/connect";
export * from "@modelreg/proto";
