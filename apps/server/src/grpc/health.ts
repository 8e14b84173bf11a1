// grpc.health.v1.Health: the standard gRPC health-checking protocol
// (https://github.com/grpc/grpc/blob/master/doc/health-checking.md), as a
// Connect-ES service implementation. Semantics follow grpc-go's health server:
//
// - "" names the whole server and starts out SERVING; other services are
//   unknown until setStatus()/setServing() registers them.
// - Check answers NOT_FOUND for an unknown service.
// - Watch never fails for an unknown service: it sends SERVICE_UNKNOWN and
//   keeps the stream open, then sends every later change. Rapid changes may
//   be coalesced (only the latest status is sent), as the protocol allows.
// - shutdown() sets every service to NOT_SERVING, delivers that to watchers,
//   ends their streams and ignores all later status changes.
import { Code, ConnectError, type ConnectRouter, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@modelreg/proto/health/v1/health_pb";

export { Health, ServingStatus };

export interface HealthService {
  /** The implementation, for `router.service(Health, impl)`. */
  readonly impl: ServiceImpl<typeof Health>;
  /** Shorthand for `router.service(Health, impl)`. */
  register(router: ConnectRouter): void;
  /** Sets the status of `service` ("" = whole server), notifying watchers. */
  setStatus(service: string, status: ServingStatus): void;
  /** Shorthand for setStatus(service, SERVING | NOT_SERVING). */
  setServing(service: string, serving: boolean): void;
  /** Everything NOT_SERVING, Watch streams end, later changes are ignored. */
  shutdown(): void;
}

export function createHealthService(): HealthService {
  const statuses = new Map<string, ServingStatus>([["", ServingStatus.SERVING]]);
  let isShutdown = false;

  // Watchers parked in waitForChange(); each is woken once, then re-parks.
  const waiters = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of [...waiters]) wake();
  };
  const waitForChange = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const wake = () => {
        waiters.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });

  const setStatus = (service: string, status: ServingStatus) => {
    if (isShutdown || statuses.get(service) === status) return;
    statuses.set(service, status);
    wakeAll();
  };

  const impl: ServiceImpl<typeof Health> = {
    check(req) {
      const status = statuses.get(req.service);
      if (status === undefined) {
        throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      }
      return { status };
    },

    async *watch(req, ctx: HandlerContext) {
      let last: ServingStatus | undefined;
      for (;;) {
        const current = statuses.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (current !== last) {
          last = current;
          yield { status: current };
        }
        // ctx.signal fires when the client cancels, the deadline passes or
        // the server gives up on the call.
        if (isShutdown || ctx.signal.aborted) return;
        await waitForChange(ctx.signal);
      }
    },

    list() {
      const result: Record<string, { status: ServingStatus }> = {};
      for (const [service, status] of statuses) result[service] = { status };
      return { statuses: result };
    },
  };

  return {
    impl,
    register: (router) => void router.service(Health, impl),
    setStatus,
    setServing: (service, serving) =>
      setStatus(service, serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING),
    shutdown() {
      if (isShutdown) return;
      for (const service of statuses.keys()) statuses.set(service, ServingStatus.NOT_SERVING);
      isShutdown = true;
      wakeAll();
    },
  };
}
