export * from "./schema.js";
export { openDatabase, migrationsFolder } from "./open-database.js";
export type { Database, DatabaseHandle, OpenDatabaseOptions, Schema, Tx } from "./open-database.js";
