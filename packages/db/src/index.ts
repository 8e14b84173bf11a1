export * from "./schema.js";
export { openDatabase, migrationsFolder } from "./open-database.js";
export type { Database, DatabaseHandle, OpenDatabaseOptions, Schema } from "./open-database.js";
