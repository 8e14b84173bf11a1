import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, createFileRegistry, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { type FileDescriptorProto, FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { rpcAdapter } from "../http/rpc-adapter.js";
import { ModelService, VersionService } from "@modelreg/proto";
import type { ServerReflectionRequestSchema, ServerReflectionResponse } from "@modelreg/proto/grpc/reflection/v1/reflection_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type Server } from "../http/serve.js";
import { createHealthService, Health } from "./health.js";
import { createReflectionServices, ServerReflectionV1, ServerReflectionV1alpha } from "./reflection.js";

const SERVICES = [ModelService.typeName, VersionService.typeName, Health.typeName];
const BUF = fileURLToPath(new URL("../../../../node_modules/.bin/buf", import.meta.url));

let server: Server;
beforeAll(async () => {
  const health = createHealthService();
  const reflection = createReflectionServices([ModelService, VersionService, Health], SERVICES);
  const routes = rpcAdapter({
    routes(router) {
      router.service(ModelService, { getModel: () => ({}) }); // a trivial stub to describe
      health.register(router);
      reflection.register(router);
    },
  });
  server = await serve(routes, { port: 0, host: "127.0.0.1" });
});
afterAll(() => server.close(1000));

type Request = MessageInitShape<typeof ServerReflectionRequestSchema>;

/** Sends all requests on one bidi stream and collects the answers. */
async function reflect(service: typeof ServerReflectionV1 | typeof ServerReflectionV1alpha, ...requests: Request[]) {
  const client = createClient(service as typeof ServerReflectionV1, createGrpcTransport({ baseUrl: server.url }));
  const answers: ServerReflectionResponse[] = [];
  for await (const res of client.serverReflectionInfo((async function* () { yield* requests; })())) answers.push(res);
  expect(answers).toHaveLength(requests.length);
  return answers;
}

/** File names in a file_descriptor_response (decoding each descriptor). */
function fileNames(res: ServerReflectionResponse | undefined): string[] {
  if (res?.messageResponse.case !== "fileDescriptorResponse") {
    throw new Error(`expected files, got ${JSON.stringify(res?.messageResponse)}`);
  }
  return res.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
}

function errorOf(res: ServerReflectionResponse | undefined) {
  if (res?.messageResponse.case !== "errorResponse") throw new Error(`expected an error, got ${res?.messageResponse.case}`);
  return res.messageResponse.value;
}

describe("grpc.reflection ServerReflectionInfo", () => {
  it("list_services lists the given services (v1 and v1alpha)", async () => {
    for (const service of [ServerReflectionV1, ServerReflectionV1alpha]) {
      const [res] = await reflect(service, { host: "h", messageRequest: { case: "listServices", value: "" } });
      expect(res?.validHost).toBe("h");
      expect(res?.originalRequest?.messageRequest.case).toBe("listServices");
      expect(res?.messageResponse.case).toBe("listServicesResponse");
      const names = res?.messageResponse.case === "listServicesResponse" ? res.messageResponse.value.service.map((s) => s.name) : [];
      expect(names).toEqual(SERVICES);
      expect(names).toContain("modelreg.v1.ModelService");
    }
  });

  it("file_containing_symbol returns the file first, then its transitive imports", async () => {
    const [res] = await reflect(ServerReflectionV1, { messageRequest: { case: "fileContainingSymbol", value: "modelreg.v1.ModelService" } });
    const names = fileNames(res);
    expect(names[0]).toBe("modelreg/v1/model_service.proto");
    expect(new Set(names)).toEqual(
      new Set([
        "modelreg/v1/model_service.proto",
        "google/protobuf/field_mask.proto",
        "modelreg/v1/auth.proto",
        "google/protobuf/descriptor.proto",
        "modelreg/v1/model.proto",
        "google/protobuf/timestamp.proto",
        // SetAlias answers with the Version.
        "modelreg/v1/version.proto",
        "modelreg/v1/version_metadata.proto",
        "google/protobuf/struct.proto",
      ]),
    );
    // The answer is self-contained: a registry can be built from it alone.
    const protos = res?.messageResponse.case === "fileDescriptorResponse" ? res.messageResponse.value.fileDescriptorProto : [];
    const byName = new Map(protos.map((b) => fromBinary(FileDescriptorProtoSchema, b)).map((f) => [f.name, f]));
    // In dependency order: protobuf-es's resolver callback mis-orders diamond imports (struct.proto via two files).
    const ordered: FileDescriptorProto[] = [];
    const visit = (name: string) => {
      const f = byName.get(name);
      if (!f || ordered.includes(f)) return;
      f.dependency.forEach(visit);
      ordered.push(f);
    };
    visit(names[0] ?? "");
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
    expect(registry.getService("modelreg.v1.ModelService")?.methods.map((m) => m.name)).toContain("GetModel");
  });

  it("resolves methods, messages, nested types, enums, enum values, fields and oneofs", async () => {
    const cases: [symbol: string, file: string][] = [
      ["modelreg.v1.ModelService.GetModel", "modelreg/v1/model_service.proto"],
      [".modelreg.v1.Model", "modelreg/v1/model.proto"], // leading dot tolerated
      ["modelreg.v1.Model.labels", "modelreg/v1/model.proto"], // field
      ["modelreg.v1.Model.LabelsEntry", "modelreg/v1/model.proto"], // map entry
      ["modelreg.v1.GetVersionRequest.ref", "modelreg/v1/version_service.proto"], // oneof
      ["grpc.health.v1.HealthCheckResponse.ServingStatus", "health/v1/health.proto"], // nested enum
      ["grpc.health.v1.HealthCheckResponse.SERVING", "health/v1/health.proto"], // enum value
      ["grpc.health.v1.Health", "health/v1/health.proto"],
      ["google.protobuf.Timestamp", "google/protobuf/timestamp.proto"], // well-known type
    ];
    const answers = await reflect(ServerReflectionV1, ...cases.map(([value]): Request => ({ messageRequest: { case: "fileContainingSymbol", value } })));
    for (const [i, res] of answers.entries()) expect(fileNames(res)[0], cases[i]?.[0]).toBe(cases[i]?.[1]);
  });

  it("file_by_filename, and v1alpha answers the same way", async () => {
    const [byName] = await reflect(ServerReflectionV1, { messageRequest: { case: "fileByFilename", value: "modelreg/v1/model.proto" } });
    expect(fileNames(byName)).toEqual(["modelreg/v1/model.proto", "google/protobuf/timestamp.proto"]);
    const [alpha] = await reflect(ServerReflectionV1alpha, { messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.Health" } });
    expect(fileNames(alpha)).toEqual(["health/v1/health.proto"]);
  });

  it("answers unknown symbols, files and extensions with NOT_FOUND, keeping the stream open", async () => {
    const answers = await reflect(
      ServerReflectionV1,
      { messageRequest: { case: "fileContainingSymbol", value: "modelreg.v1.NoSuchThing" } },
      { messageRequest: { case: "fileByFilename", value: "nope.proto" } },
      { messageRequest: { case: "fileContainingExtension", value: { containingType: "modelreg.v1.Model", extensionNumber: 1000 } } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "nope.Type" } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "modelreg.v1.Model" } },
      { messageRequest: { case: "listServices", value: "" } },
    );
    const [symbol, file, extension, extensionType, numbers, list] = answers;
    expect(errorOf(symbol)).toMatchObject({ errorCode: Code.NotFound, errorMessage: 'symbol not found: "modelreg.v1.NoSuchThing"' });
    expect(errorOf(file).errorCode).toBe(5);
    expect(errorOf(extension).errorCode).toBe(5);
    expect(errorOf(extensionType).errorCode).toBe(5);
    expect(numbers?.messageResponse).toMatchObject({ case: "allExtensionNumbersResponse", value: { baseTypeName: "modelreg.v1.Model", extensionNumber: [] } });
    expect(list?.messageResponse.case).toBe("listServicesResponse");
  });

  it("refuses to list a service it has no descriptor for", () => {
    expect(() => createReflectionServices([Health], ["modelreg.v1.ModelService"])).toThrow(/no descriptor/);
  });

  // buf curl resolves schemas through reflection (v1, falling back to v1alpha).
  describe("with the real buf curl", { timeout: 30_000 }, () => {
    const bufCurl = async (...args: string[]) =>
      (await promisify(execFile)(BUF, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { timeout: 20_000 })).stdout;

    it("--list-methods", async () => {
      const methods = (await bufCurl("--list-methods", server.url)).trim().split("\n");
      expect(methods).toContain("modelreg.v1.ModelService/GetModel");
      expect(methods).toContain("modelreg.v1.VersionService/GetVersion");
      expect(methods).toContain("grpc.health.v1.Health/Check");
    });

    it("calls Health/Check and a ModelService stub with JSON", async () => {
      expect(JSON.parse(await bufCurl("-d", "{}", `${server.url}/grpc.health.v1.Health/Check`))).toEqual({ status: "SERVING" });
      expect(JSON.parse(await bufCurl("-d", '{"name":"x"}', `${server.url}/modelreg.v1.ModelService/GetModel`))).toEqual({});
    });
  });
});
