// The gRPC health service follows readiness: the whole server ("") and
// every API service go NOT_SERVING when the database becomes unreachable
// (or unmigrated) and SERVING when it is back, for Check and Watch alike.
// Shutting the health service down also stops the readiness checks.
import type { HealthService } from "../grpc/health.js";
import type { Readiness } from "./readiness.js";

export function healthFollowingReadiness(health: HealthService, readiness: Readiness, services: string[]): HealthService {
  readiness.onChange((state) => {
    for (const service of ["", ...services]) health.setServing(service, state.ready);
  });
  return {
    ...health,
    shutdown() {
      readiness.stop();
      health.shutdown();
    },
  };
}
