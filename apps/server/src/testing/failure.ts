// The error details of a call that must fail (and fails the test if it succeeds).
import { ConnectError, type ErrorDetails, errorDetails } from "@modelreg/sdk";
import { expect } from "vitest";

export async function failure(p: Promise<unknown>): Promise<ErrorDetails> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectError);
    return errorDetails(e);
  }
  throw new Error("expected the call to fail");
}
