// createRegistryClient(): typed clients for every modelreg service over
// Connect, gRPC or gRPC-Web, plus paging helpers and short-form names.
import { createClient, type CallOptions, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import {
  ModelService,
  VersionService,
  type Model,
  type Version,
} from "@modelreg/proto";
import { modelName, versionName, workspaceName } from "./names.js";
import { paginate } from "./paginate.js";

export interface RegistryClientOptions {
  /** Server address, e.g. http://localhost:8080. */
  baseUrl: string;
  /** Wire protocol (default "connect"). */
  protocol?: "connect" | "grpc" | "grpc-web";
  /** HTTP version (default "2"; cleartext HTTP/2 with prior knowledge for http:// URLs). */
  httpVersion?: "1.1" | "2";
  /** Workspace that short names resolve in (default "default"). */
  workspace?: string;
  /** Default deadline of every call, in milliseconds (default: none). Ignored when `transport` is given: set it there. */
  timeoutMs?: number;
  /** Extra headers on every call. */
  headers?: Record<string, string>;
  /** Extra interceptors, outermost first. */
  interceptors?: Interceptor[];
  /** Use this transport instead of building one (tests, custom stacks). */
  transport?: Transport;
}

export interface RegistryClient {
  /** The workspace short names resolve in. */
  readonly workspace: string;
  /** modelreg.v1.ModelService. */
  readonly models: Client<typeof ModelService>;
  /** modelreg.v1.VersionService. */
  readonly versions: Client<typeof VersionService>;
  /** `fraud` -> `workspaces/{w}/models/fraud`. */
  modelName(ref: string): string;
  /** `fraud:1.0.0` -> `workspaces/{w}/models/fraud/versions/1.0.0`. */
  versionName(ref: string): string;
  /** Every model of the workspace, fetching pages as needed; options apply to each page's call. */
  listAllModels(request?: { pageSize?: number }, options?: CallOptions): AsyncIterable<Model>;
  /** Every version of a model (short or full name), newest first; options apply to each page's call. */
  listAllVersions(model: string, request?: { pageSize?: number }, options?: CallOptions): AsyncIterable<Version>;
}

function headerInterceptor(headers: Record<string, string>): Interceptor {
  return (next) => (req) => {
    for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
    return next(req);
  };
}

export function createTransport(options: RegistryClientOptions): Transport {
  const interceptors = [...(options.headers ? [headerInterceptor(options.headers)] : []), ...(options.interceptors ?? [])];
  const common = {
    baseUrl: options.baseUrl,
    httpVersion: options.httpVersion ?? "2",
    interceptors,
    defaultTimeoutMs: options.timeoutMs,
  } as const;
  switch (options.protocol ?? "connect") {
    case "grpc":
      return createGrpcTransport(common);
    case "grpc-web":
      return createGrpcWebTransport(common);
    case "connect":
      return createConnectTransport(common);
    default:
      throw new Error(`unknown protocol ${String(options.protocol)}: use connect, grpc or grpc-web`);
  }
}

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const transport = options.transport ?? createTransport(options);
  const workspace = options.workspace ?? "default";
  const models = createClient(ModelService, transport);
  const versions = createClient(VersionService, transport);
  return {
    workspace,
    models,
    versions,
    modelName: (ref) => modelName(workspace, ref),
    versionName: (ref) => versionName(workspace, ref),
    listAllModels: (request = {}, callOptions) =>
      paginate(async (pageToken) => {
        const res = await models.listModels({ parent: workspaceName(workspace), ...request, pageToken }, callOptions);
        return { items: res.models, nextPageToken: res.nextPageToken };
      }),
    listAllVersions: (model, request = {}, callOptions) =>
      paginate(async (pageToken) => {
        const res = await versions.listVersions({ ...request, parent: modelName(workspace, model), pageToken }, callOptions);
        return { items: res.versions, nextPageToken: res.nextPageToken };
      }),
  };
}
