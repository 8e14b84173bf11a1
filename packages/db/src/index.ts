export * from "./schema.js";
export { openDatabase, migrationsFolder } from "./open-database.js";
export type { Database, DatabaseHandle, DatabaseStats, ListenHandlers, Listening, OpenDatabaseOptions, Schema, Tx } from "./open-database.js";
export { schemaState, type SchemaState } from "./schema-state.js";
export { CONNECT_FAILURES, CONNECTION_LOSSES } from "./pool-gate.js";
