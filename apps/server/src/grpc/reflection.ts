// gRPC server reflection (grpc.reflection.v1 and the older v1alpha, which
// grpcurl, buf curl, Postman and friends still fall back to), as Connect-ES
// service implementations over the protobuf-es descriptors of the generated
// code. See https://github.com/grpc/grpc/blob/master/doc/server-reflection.md
//
// Every file answer carries the serialized FileDescriptorProto of the file
// that was asked for, followed by all of its transitive imports
// (well-known types included), so a client never needs a second round trip.
// Errors travel in-band as error_response with a gRPC status code; the
// stream itself stays open.
import { Code, type ConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import { toBinary, type DescFile, type DescMessage, type DescService, type FileRegistry } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ServerReflection as ServerReflectionV1 } from "@modelreg/proto/grpc/reflection/v1/reflection_pb";
import { ServerReflection as ServerReflectionV1alpha } from "@modelreg/proto/grpc/reflection/v1alpha/reflection_pb";

export { ServerReflectionV1, ServerReflectionV1alpha };

/** Where descriptors come from: a FileRegistry, or generated files/services. */
export type DescriptorSource = FileRegistry | Iterable<DescFile | DescService>;

export interface ReflectionServices {
  /** `router.service(ServerReflectionV1, services.v1)` */
  readonly v1: ServiceImpl<typeof ServerReflectionV1>;
  /** `router.service(ServerReflectionV1alpha, services.v1alpha)` */
  readonly v1alpha: ServiceImpl<typeof ServerReflectionV1alpha>;
  /** Registers both versions on the router. */
  register(router: ConnectRouter): void;
}

/**
 * Creates both reflection services.
 *
 * `source` supplies the files to describe (e.g. `[ModelService, Health]` or
 * `[file_modelreg_v1_model_service]`); their imports are followed
 * automatically. `serviceNames` is what list_services reports, as
 * fully-qualified names (default: every service found in the files). Each
 * listed service must be described by `source`, or this throws.
 */
export function createReflectionServices(
  source: DescriptorSource,
  serviceNames?: readonly string[],
): ReflectionServices {
  const index = buildIndex(source);
  const services = serviceNames ? [...serviceNames] : [...index.services];
  for (const name of services) {
    if (!index.services.has(name)) throw new Error(`reflection: no descriptor for service "${name}"`);
  }

  // Both protocol versions have the same shape; only the type names differ.
  async function* respond<R extends ReflectionRequest>(requests: AsyncIterable<R>) {
    for await (const req of requests) {
      yield { validHost: req.host, originalRequest: req, messageResponse: answer(index, services, req) };
    }
  }
  const v1: ServiceImpl<typeof ServerReflectionV1> = { serverReflectionInfo: (requests) => respond(requests) };
  const v1alpha: ServiceImpl<typeof ServerReflectionV1alpha> = { serverReflectionInfo: (requests) => respond(requests) };
  return {
    v1,
    v1alpha,
    register(router) {
      router.service(ServerReflectionV1, v1);
      router.service(ServerReflectionV1alpha, v1alpha);
    },
  };
}

// Structural view of ServerReflectionRequest, shared by v1 and v1alpha.
interface ReflectionRequest {
  host: string;
  messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

// Structural init shape of ServerReflectionResponse.message_response.
type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

function answer(index: Index, services: string[], req: ReflectionRequest): ReflectionAnswer {
  const error = (code: Code, errorMessage: string): ReflectionAnswer => ({
    case: "errorResponse",
    value: { errorCode: code, errorMessage },
  });
  const files = (file: DescFile | undefined, notFound: string): ReflectionAnswer =>
    file
      ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: index.closure(file) } }
      : error(Code.NotFound, notFound);

  const r = req.messageRequest;
  switch (r.case) {
    case "listServices":
      return { case: "listServicesResponse", value: { service: services.map((name) => ({ name })) } };
    case "fileByFilename":
      return files(index.files.get(r.value), `file not found: "${r.value}"`);
    case "fileContainingSymbol":
      return files(index.symbols.get(stripDot(r.value)), `symbol not found: "${r.value}"`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = r.value;
      const file = index.extensions.get(stripDot(containingType))?.get(extensionNumber);
      return files(file, `extension not found: ${extensionNumber} of "${containingType}"`);
    }
    case "allExtensionNumbersOfType": {
      const type = stripDot(r.value);
      if (!index.messages.has(type)) return error(Code.NotFound, `message type not found: "${r.value}"`);
      const numbers = [...(index.extensions.get(type)?.keys() ?? [])].sort((a, b) => a - b);
      return { case: "allExtensionNumbersResponse", value: { baseTypeName: type, extensionNumber: numbers } };
    }
    default:
      return error(Code.InvalidArgument, "empty or unsupported reflection request");
  }
}

// Clients sometimes send fully-qualified names with a leading dot.
const stripDot = (name: string) => (name.startsWith(".") ? name.slice(1) : name);

interface Index {
  /** By file name, e.g. "modelreg/v1/model.proto". */
  files: Map<string, DescFile>;
  /** Every fully-qualified symbol to the file declaring it. */
  symbols: Map<string, DescFile>;
  /** All service names found. */
  services: Set<string>;
  /** All message type names found (for all_extension_numbers_of_type). */
  messages: Set<string>;
  /** extendee type name -> field number -> file declaring the extension. */
  extensions: Map<string, Map<number, DescFile>>;
  /** Serialized file plus its transitive imports, the file itself first. */
  closure(file: DescFile): Uint8Array[];
}

function buildIndex(source: DescriptorSource): Index {
  const roots: DescFile[] = "kind" in source && source.kind === "registry"
    ? [...source.files]
    : [...(source as Iterable<DescFile | DescService>)].map((d) => (d.kind === "file" ? d : d.file));

  const files = new Map<string, DescFile>();
  const addFile = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    file.dependencies.forEach(addFile);
  };
  roots.forEach(addFile);

  const symbols = new Map<string, DescFile>();
  const services = new Set<string>();
  const messages = new Set<string>();
  const extensions = new Map<string, Map<number, DescFile>>();
  for (const file of files.values()) {
    const pkg = file.proto.package;
    const add = (name: string) => symbols.set(name, file);
    if (pkg) {
      // Packages resolve too (grpc-go answers them); first file wins.
      for (let i = pkg.indexOf("."); ; i = pkg.indexOf(".", i + 1)) {
        const prefix = i < 0 ? pkg : pkg.slice(0, i);
        if (!symbols.has(prefix)) add(prefix);
        if (i < 0) break;
      }
    }
    for (const desc of nestedTypes(file)) {
      add(desc.typeName);
      switch (desc.kind) {
        case "service":
          services.add(desc.typeName);
          for (const m of desc.methods) add(`${desc.typeName}.${m.name}`);
          break;
        case "message":
          messages.add(desc.typeName);
          addMembers(desc, add);
          break;
        case "enum": {
          // Enum values are scoped as siblings of their enum.
          const scope = desc.parent?.typeName ?? pkg;
          for (const v of desc.values) add(scope ? `${scope}.${v.name}` : v.name);
          break;
        }
        case "extension": {
          const byNumber = extensions.get(desc.extendee.typeName) ?? new Map<number, DescFile>();
          byNumber.set(desc.number, file);
          extensions.set(desc.extendee.typeName, byNumber);
          break;
        }
      }
    }
  }

  // Serialize each file once; answers reuse the bytes.
  const bytes = new Map<DescFile, Uint8Array>();
  const serialized = (file: DescFile) => {
    let b = bytes.get(file);
    if (!b) {
      b = toBinary(FileDescriptorProtoSchema, file.proto);
      bytes.set(file, b);
    }
    return b;
  };
  const closure = (file: DescFile) => {
    const seen = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    return [...seen].map(serialized);
  };

  return { files, symbols, services, messages, extensions, closure };
}

/** Fields, oneofs and synthetic map-entry messages resolve to the file of their message. */
function addMembers(message: DescMessage, add: (name: string) => void) {
  for (const member of [...message.fields, ...message.oneofs]) add(`${message.typeName}.${member.name}`);
  // protobuf-es hides map entries (e.g. Model.LabelsEntry); protoc does not.
  for (const nested of message.proto.nestedType) {
    if (nested.options?.mapEntry) add(`${message.typeName}.${nested.name}`);
  }
}
