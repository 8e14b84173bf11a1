import { expect, it } from "vitest";
import { paginate } from "./paginate.js";

it("fetches pages lazily until the token is empty", async () => {
  const pages: Record<string, { items: number[]; nextPageToken: string }> = {
    "": { items: [1, 2], nextPageToken: "a" },
    a: { items: [], nextPageToken: "b" },
    b: { items: [3], nextPageToken: "" },
  };
  const asked: string[] = [];
  const it = paginate(async (token) => {
    asked.push(token);
    return pages[token]!;
  });
  const first = await it.next();
  expect(first.value).toBe(1);
  expect(asked).toEqual([""]);
  const rest: number[] = [];
  for await (const x of it) rest.push(x);
  expect(rest).toEqual([2, 3]);
  expect(asked).toEqual(["", "a", "b"]);
});
