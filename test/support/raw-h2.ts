// A bare HTTP/2 client that writes frames itself, so a test can do what a
// well-behaved client (node:http2, nghttp2) refuses to: open more streams
// than the server's SETTINGS_MAX_CONCURRENT_STREAMS allows, all at once.
// It answers the server's SETTINGS and PINGs and records what comes back:
// response HEADERS, RST_STREAM codes and GOAWAY.
import * as net from "node:net";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** Frame types (RFC 9113 6). */
const Type = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7 } as const;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK: every header as a literal without indexing, new name, no Huffman (RFC 7541 6.2.2). */
export function hpack(headers: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  const str = (s: string) => {
    const b = Buffer.from(s, "latin1");
    return Buffer.concat([integer(b.length, 7, 0), b]);
  };
  for (const [name, value] of headers) parts.push(Buffer.from([0]), str(name), str(value));
  return Buffer.concat(parts);
}

function integer(n: number, prefixBits: number, first: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (n < max) return Buffer.from([first | n]);
  const out = [first | max];
  for (n -= max; n >= 128; n >>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
}

/** A gRPC message frame: flags, length, bytes. */
export function grpcEnvelope(message: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

export interface RawH2 {
  socket: net.Socket;
  /** Streams answered with HEADERS. */
  responses: Set<number>;
  /** RST_STREAM error codes received, with their counts. */
  resets: Map<number, number>;
  goaway: { lastStreamId: number; code: number } | undefined;
  /** Resolves once the server's first SETTINGS is acknowledged. */
  ready: Promise<void>;
  /** Resolves when the connection closes. */
  closed: Promise<void>;
  write(data: Buffer): void;
}

export async function connectRawH2(port: number, options: { host?: string; localAddress?: string } = {}): Promise<RawH2> {
  const socket = net.connect({ port, host: options.host ?? "127.0.0.1", localAddress: options.localAddress });
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  let onReady = () => {};
  const raw: RawH2 = {
    socket,
    responses: new Set(),
    resets: new Map(),
    goaway: undefined,
    ready: new Promise<void>((r) => (onReady = r)),
    closed: new Promise<void>((r) => socket.once("close", () => r())),
    write: (data) => void (socket.writable && socket.write(data)),
  };
  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 9) {
      const length = buffered.readUIntBE(0, 3);
      if (buffered.length < 9 + length) break;
      const type = buffered[3]!;
      const flags = buffered[4]!;
      const streamId = buffered.readUInt32BE(5) & 0x7fffffff;
      const payload = buffered.subarray(9, 9 + length);
      buffered = buffered.subarray(9 + length);
      if (type === Type.SETTINGS && !(flags & ACK)) {
        raw.write(frame(Type.SETTINGS, ACK, 0));
        onReady();
      } else if (type === Type.PING && !(flags & ACK)) raw.write(frame(Type.PING, ACK, 0, payload));
      else if (type === Type.HEADERS) raw.responses.add(streamId);
      else if (type === Type.RST_STREAM) raw.resets.set(payload.readUInt32BE(0), (raw.resets.get(payload.readUInt32BE(0)) ?? 0) + 1);
      else if (type === Type.GOAWAY) raw.goaway = { lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4) };
    }
  });
  socket.write(Buffer.concat([PREFACE, frame(Type.SETTINGS, 0, 0)]));
  return raw;
}

/** HEADERS (and a DATA frame with `body`, ending the stream) for each of `count` new streams, from stream id `firstId`. */
export function requestFrames(headers: [string, string][], body: Buffer, count: number, firstId = 1): Buffer {
  const block = hpack(headers);
  const frames: Buffer[] = [];
  for (let i = 0, id = firstId; i < count; i++, id += 2) {
    frames.push(frame(Type.HEADERS, END_HEADERS, id, block), frame(Type.DATA, END_STREAM, id, body));
  }
  return Buffer.concat(frames);
}

export const H2_ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;
