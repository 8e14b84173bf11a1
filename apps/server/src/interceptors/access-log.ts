// One JSON log line at info per call, however it ended: method, outcome
// code, duration, the caller's key id, its address and the request id. A
// streaming call's line is written when its stream ends, so its duration
// and code are the whole call's; a client that went away ends as
// "canceled". The same end of a call feeds the metrics (CallObserver).
import type { DescMethod } from "@bufbuild/protobuf";
import type { Interceptor, StreamRequest, UnaryRequest } from "@connectrpc/connect";
import type { Logger } from "pino";
import { bearerOf, parseToken } from "../auth/keys.js";
import { callIdentityKey, peerAddressKey } from "../auth/principal.js";
import { codeNameOf } from "./code-name.js";
import { madeOnce } from "./made-once.js";
import { requestIdOf } from "./request-id.js";

/** A finished call as the log and the metrics see it. */
export interface CallRecord {
  method: DescMethod;
  /** The outcome as Connect names codes on the wire: "ok", "not_found", "canceled", ... */
  code: string;
  ms: number;
  requestId: string;
  /** The access key the call was made with (or claimed, when it was refused before authentication). */
  keyId?: string;
  /** The client's network address. */
  peer?: string;
}

/** Told of every call's start and end (the metrics). */
export interface CallObserver {
  started(method: DescMethod): void;
  finished(call: CallRecord): void;
}

export interface AccessLog {
  /** The interceptor that writes one line per call. */
  interceptor: Interceptor;
  /** Writes the line of a call refused before the interceptors run (message-check.ts). */
  refused(method: DescMethod, code: string, started: number, fields: { requestId: string; peer?: string }): void;
}

export function createAccessLog(logger: Logger, observer?: CallObserver): AccessLog {
  const write = (call: CallRecord) => {
    logger.info({ rpc: `${call.method.parent.typeName}/${call.method.name}`, code: call.code, ms: call.ms, keyId: call.keyId, peer: call.peer, requestId: call.requestId }, "call");
    observer?.finished(call);
  };
  const interceptor: Interceptor = madeOnce(async (req, next) => {
    const started = performance.now();
    observer?.started(req.method);
    const requestId = requestIdOf(req);
    const end = (code: string) => write({ method: req.method, code, ms: msSince(started), requestId, keyId: keyIdOf(req), peer: req.contextValues.get(peerAddressKey) });
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      end(codeNameOf(err));
      throw err;
    }
    if (!res.stream) {
      end("ok");
      return res;
    }
    return { ...res, message: loggedStream(res.message, end) };
  });
  return {
    interceptor,
    refused(method, code, started, fields) {
      observer?.started(method);
      write({ method, code, ms: msSince(started), ...fields });
    },
  };
}

/** The messages of a streaming response; the call ends when they do, or when the client stops reading them. */
async function* loggedStream<T>(messages: AsyncIterable<T>, end: (code: string) => void): AsyncIterable<T> {
  let code = "canceled"; // Connect stopped asking for messages: the client went away.
  try {
    yield* messages;
    code = "ok";
  } catch (err) {
    code = codeNameOf(err);
    throw err;
  } finally {
    end(code);
  }
}

/** The key id of the caller: authenticated, or else claimed in its Authorization header. */
function keyIdOf(req: UnaryRequest | StreamRequest): string | undefined {
  const principal = req.contextValues.get(callIdentityKey)?.principal;
  if (principal) return principal.keyId || undefined;
  return parseToken(bearerOf(req.header.get("authorization")) ?? "")?.keyId;
}

function msSince(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
