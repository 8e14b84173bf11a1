// The base of signed URLs: PUBLIC_URL when set, else the scheme and host the
// request came with (https over TLS).
import { describe, expect, it } from "vitest";
import { baseUrlOf, baseUrlOfRequest, isTls } from "./file-urls.js";

describe("baseUrlOf", () => {
  it("takes PUBLIC_URL first, then the request's host, with https over TLS", () => {
    expect(baseUrlOf("https://registry.example.com/", "10.0.0.5:8080", false)).toBe("https://registry.example.com");
    expect(baseUrlOf(undefined, "127.0.0.1:8443", true)).toBe("https://127.0.0.1:8443");
    expect(baseUrlOf(undefined, "[::1]:8080")).toBe("http://[::1]:8080");
    expect(baseUrlOf(undefined, "evil.example/path?")).toBe(""); // not a host: paths only
  });

  it("reads the scheme and host of a handler's URL", () => {
    expect(baseUrlOfRequest(undefined, "https://localhost:8443/modelreg.v1.FileService/ListVersionFiles")).toBe("https://localhost:8443");
    expect(baseUrlOfRequest(undefined, "http://127.0.0.1:8080/x")).toBe("http://127.0.0.1:8080");
    expect(baseUrlOfRequest("http://proxy.internal", "https://localhost:8443/x")).toBe("http://proxy.internal");
    expect(baseUrlOfRequest(undefined, "not a url")).toBe("");
  });

  it("tells a TLS request by its socket", () => {
    expect(isTls({ socket: { encrypted: true } })).toBe(true);
    expect(isTls({ socket: {} })).toBe(false);
    expect(isTls({ socket: null })).toBe(false);
  });
});
