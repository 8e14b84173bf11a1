// @modelreg/sdk: the typed TypeScript client of modelreg.
export { createRegistryClient, createTransport } from "./client.js";
export type { RegistryClient, RegistryClientOptions } from "./client.js";
export { Code, ConnectError, codeName, errorDetails } from "./errors.js";
export type { ErrorDetails } from "./errors.js";
export { modelName, splitRef, versionName, workspaceName } from "./names.js";
export { paginate } from "./paginate.js";
export { hashFile, sha256Hex } from "./transfers/hash.js";
export type { FileDigest } from "./transfers/hash.js";
export { httpError } from "./transfers/http.js";
export { listLocalFiles } from "./transfers/local-files.js";
export type { LocalFile } from "./transfers/local-files.js";
export type { TransferOptions, TransferProgress } from "./transfers/context.js";
export type { RetryPolicy } from "./transfers/retry.js";
export type { UploadFileOptions, UploadOptions } from "./transfers/upload.js";
export type { ByteRange, DownloadedFile, DownloadOptions } from "./transfers/download.js";
export type { Page } from "./paginate.js";
export type { CallOptions, Interceptor, Transport } from "@connectrpc/connect";
export * from "@modelreg/proto";
