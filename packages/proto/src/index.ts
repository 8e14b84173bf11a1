// @modelreg/proto: the generated modelreg.v1 contract, plus the third-party
// messages the server and clients need (google.rpc error details, gRPC health
// and reflection). Everything under ./gen is written by `buf generate`.
export * from "./gen/modelreg/v1/auth_pb.js";
export * from "./gen/modelreg/v1/export_pb.js";
export * from "./gen/modelreg/v1/export_service_pb.js";
export * from "./gen/modelreg/v1/file_pb.js";
export * from "./gen/modelreg/v1/file_service_pb.js";
export * from "./gen/modelreg/v1/model_pb.js";
export * from "./gen/modelreg/v1/model_service_pb.js";
export * from "./gen/modelreg/v1/task_pb.js";
export * from "./gen/modelreg/v1/task_service_pb.js";
export * from "./gen/modelreg/v1/task_worker_service_pb.js";
export * from "./gen/modelreg/v1/version_pb.js";
export * from "./gen/modelreg/v1/version_metadata_pb.js";
export * from "./gen/modelreg/v1/version_service_pb.js";
export * from "./gen/modelreg/v1/workspace_pb.js";
export * from "./gen/modelreg/v1/workspace_service_pb.js";
export { BadRequestSchema, BadRequest_FieldViolationSchema, ErrorInfoSchema, RetryInfoSchema } from "./gen/google/rpc/error_details_pb.js";
export type { BadRequest, BadRequest_FieldViolation, ErrorInfo, RetryInfo } from "./gen/google/rpc/error_details_pb.js";
