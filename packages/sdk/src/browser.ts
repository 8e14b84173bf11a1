// PLACEHOLDER until the browser entry lands (issue 16, item 2): the package's
// "browser" export condition points at this file's build. It re-exports only
// what needs no node: module.
export { Code, ConnectError } from "@connectrpc/connect";
export * from "@modelreg/proto";
