// Reading a server's Prometheus metrics in end-to-end tests: the URL the
// server logged (started with METRICS_PORT=0, a free port), the scrape, and
// one sample's value by name and labels.

/** The text exposition of GET `url`. */
export async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.text();
}

/** The value of the sample `name` whose labels include `labels`; undefined when there is none. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** The metrics URL a server process logged when it started ("metrics" in its listening line). */
export function metricsUrlOf(output: string[]): string {
  for (const line of output) {
    const m = /"metrics":"(http:\/\/[^"]+)"/.exec(line);
    if (m) return m[1]!;
  }
  throw new Error(`the server logged no metrics URL:\n${output.join("\n")}`);
}
