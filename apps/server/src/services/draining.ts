// Calls that wait (a ClaimTask long poll, a WatchTask stream) end when the
// server starts shutting down, as when their client goes away, so that
// they do not hold the drain for the whole grace period; their clients
// carry on with another replica (see AppDeps.draining).

/** The call's signal, aborted also when the server starts draining. */
export function untilDraining(call: AbortSignal, draining: AbortSignal | undefined): AbortSignal {
  return draining ? AbortSignal.any([call, draining]) : call;
}
