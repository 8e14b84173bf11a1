// createApp(): every service of the server, wired over one database, with
// the interceptor order written down in one place.
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Database } from "@modelreg/db";
import { ModelService, VersionService } from "@modelreg/proto";
import { createModelsDomain } from "./domain/models.js";
import { createVersionsDomain } from "./domain/versions.js";
import { createHealthService, Health } from "./grpc/health.js";
import { createReflectionServices, ServerReflectionV1, ServerReflectionV1alpha } from "./grpc/reflection.js";
import { accessLogInterceptor } from "./interceptors/access-log.js";
import { errorInterceptor } from "./interceptors/errors.js";
import { requestIdInterceptor } from "./interceptors/request-id.js";
import type { Logger } from "./logger.js";
import { createModelService } from "./services/model-service.js";
import { createVersionService } from "./services/version-service.js";

export interface AppDeps {
  db: Database;
  logger: Logger;
  /** Largest request message accepted, in bytes. */
  maxMessageBytes?: number;
}

export function createApp(deps: AppDeps) {
  const health = createHealthService();
  const apiServices = [ModelService, VersionService];
  for (const s of apiServices) health.setServing(s.typeName, true);
  const reflection = createReflectionServices([...apiServices, Health, ServerReflectionV1]);

  // Interceptor order, outermost first:
  //   1. request id  - every call gets one; echoed in x-request-id
  //   2. access log  - one line per call with its final code and duration
  //   3. errors      - domain errors -> Connect codes; nothing else escapes
  const interceptors: Interceptor[] = [requestIdInterceptor(), accessLogInterceptor(deps.logger), errorInterceptor(deps.logger)];

  const routes = (router: ConnectRouter) => {
    router.service(ModelService, createModelService(createModelsDomain(deps.db)));
    router.service(VersionService, createVersionService(createVersionsDomain(deps.db)));
    router.service(Health, health.impl);
    router.service(ServerReflectionV1, reflection.v1);
    router.service(ServerReflectionV1alpha, reflection.v1alpha);
  };

  const handler = connectNodeAdapter({
    routes,
    interceptors,
    readMaxBytes: deps.maxMessageBytes ?? 4 * 1024 * 1024,
  });

  return { routes, interceptors, handler, health };
}

export type App = ReturnType<typeof createApp>;
