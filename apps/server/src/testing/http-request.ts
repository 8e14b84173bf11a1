// A plain HTTP/1.1 request for tests of the byte routes: the status, the
// headers and the whole body of the answer. A body given in `parts` is sent
// chunked (no Content-Length unless the headers give one).
import * as http from "node:http";

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  parts?: Uint8Array[];
}

export function request(url: string, init: RequestInit = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? "GET", headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    // A refusal may come (and the connection close) before every part is sent.
    req.on("error", reject);
    for (const part of init.parts ?? []) req.write(part);
    req.end(init.body);
  });
}
