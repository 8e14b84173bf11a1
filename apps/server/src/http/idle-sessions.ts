// HTTP/2 connections with nothing to do: a session that has had no open
// stream for the idle time gets GOAWAY (and closes, having no stream to
// finish), so that idle connections do not hold places under the connection
// limits for ever. A client simply opens a new connection for its next call.
//
// One sweep for all sessions rather than Node's session.setTimeout(): that
// timer is not cleared when a session is destroyed, and keeps the destroyed
// session in memory until it fires, which a client opening and dropping
// connections quickly would turn into a pile.
import type * as http2 from "node:http2";

export interface IdleSessions {
  track(session: http2.ServerHttp2Session): void;
  stop(): void;
}

export function createIdleSessions(idleMs: number): IdleSessions {
  const sessions = new Map<http2.ServerHttp2Session, { open: number; idleSince: number }>();
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const [session, s] of sessions) if (s.open === 0 && now - s.idleSince >= idleMs && !session.closed) session.close();
    },
    Math.max(50, Math.min(10_000, Math.floor(idleMs / 4))),
  ).unref();
  return {
    track(session) {
      const s = { open: 0, idleSince: performance.now() };
      sessions.set(session, s);
      session.on("stream", (stream: http2.ServerHttp2Stream) => {
        s.open++;
        stream.once("close", () => {
          if (--s.open === 0) s.idleSince = performance.now();
        });
      });
      session.once("close", () => sessions.delete(session));
    },
    stop: () => clearInterval(sweep),
  };
}
