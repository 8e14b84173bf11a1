// @modelreg/server/testing: the real server for other packages' tests.
export { createTestApp, startTestServer, TEST_ADMIN_TOKEN } from "./test-app.js";
export type { TestApp, TestAppOptions, TestServer } from "./test-app.js";
export { createTestStore, TEST_SIGNING_KEYS } from "./test-store.js";
