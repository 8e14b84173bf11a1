// Task parameter templates and their validation: pure code, no database.
// The tasks domain reaches this folder through here.
export { adjustBatchSize, type GpuMemory } from "./batch-size.js";
export { checkTemplateSchema, defaultParams, PARAMS_JSON_MAX, resolveParams } from "./schema.js";
export { BUILT_IN_TEMPLATES, builtInTemplate, type ParamTemplate, TASK_TYPES } from "./templates.js";
