// Limits on connections for serve(): how many one peer may hold open, and a
// summary in the log of what was refused. (The total is net.Server's own
// maxConnections, set in serve.ts.)
//
// Why per peer: every open connection holds a file descriptor and memory,
// and a client that opens connections and sends its headers slowly holds
// them for as long as the header timeout allows. Without a bound, one
// machine could take every descriptor the process has, and then every new
// connection fails for everyone (the slowloris attack). A peer is an IPv4
// address, or an IPv6 /64 (one host usually owns a whole /64, so counting
// single IPv6 addresses would bound nothing).
import { isIPv6, type Socket } from "node:net";

/** The logger methods serve() uses. */
export interface LimitLogger {
  warn(obj: object, msg: string): void;
}

/** The peer a connection counts against: its IPv4 address, or its IPv6 /64. */
export function peerOf(address: string | undefined): string {
  if (!address) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = "", tail] = address.split("%")[0]!.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""));
}

export interface PeerLimiter {
  /** Counts the connection against its peer until it closes; false (and nothing counted) when the peer is at its limit. */
  admit(socket: Socket): boolean;
  /** Connections open now per peer (for tests and diagnostics). */
  readonly open: ReadonlyMap<string, number>;
}

export function createPeerLimiter(maxPerPeer: number): PeerLimiter {
  const open = new Map<string, number>();
  return {
    open,
    admit(socket) {
      const peer = peerOf(socket.remoteAddress);
      const n = open.get(peer) ?? 0;
      if (n >= maxPerPeer) return false;
      open.set(peer, n + 1);
      socket.once("close", () => {
        const left = (open.get(peer) ?? 1) - 1;
        if (left > 0) open.set(peer, left);
        else open.delete(peer);
      });
      return true;
    },
  };
}

/**
 * Refusals (connections over a limit, requests cut for a stalled body) are
 * logged as they start, then as one summary line per window and reason for
 * as long as they go on: an attack makes thousands of them, and a line for
 * each would flood the log.
 */
export interface RefusalLog {
  note(reason: string, peer: string): void;
}

export function createRefusalLog(logger: LimitLogger | undefined, messages: Record<string, string>, windowMs = 10_000): RefusalLog {
  const windows = new Map<string, { count: number; peers: Map<string, number> }>();
  const close = (reason: string) => {
    const w = windows.get(reason)!;
    if (w.count === 0) {
      windows.delete(reason);
      return;
    }
    const topPeers = Object.fromEntries([...w.peers].sort((a, b) => b[1] - a[1]).slice(0, 5));
    logger?.warn({ reason, count: w.count, windowMs, topPeers }, `${messages[reason] ?? reason} (in the last ${windowMs / 1000} s)`);
    windows.set(reason, { count: 0, peers: new Map() });
    setTimeout(close, windowMs, reason).unref();
  };
  return {
    note(reason, peer) {
      if (!logger) return;
      const w = windows.get(reason);
      if (!w) {
        logger.warn({ reason, peer }, messages[reason] ?? reason);
        windows.set(reason, { count: 0, peers: new Map() });
        setTimeout(close, windowMs, reason).unref();
        return;
      }
      w.count++;
      // Bounded: many peers at once are counted, but only the first thousand named.
      if (w.peers.size < 1000 || w.peers.has(peer)) w.peers.set(peer, (w.peers.get(peer) ?? 0) + 1);
    },
  };
}
