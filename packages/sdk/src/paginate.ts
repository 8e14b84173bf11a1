// An async iterator over a paged List RPC: fetches the next page only when
// the caller has consumed the current one, and stops at an empty token.

export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

export async function* paginate<T>(fetchPage: (pageToken: string) => Promise<Page<T>>): AsyncGenerator<T, void, undefined> {
  let token = "";
  do {
    const page = await fetchPage(token);
    yield* page.items;
    token = page.nextPageToken;
  } while (token !== "");
}
