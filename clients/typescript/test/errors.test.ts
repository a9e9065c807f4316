// OUT_OF_RANGE: the oldest sequence is read from the core's google.rpc.ErrorInfo detail.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CoreClient,
  CursorExpiredError,
  ErrorInfoSchema,
  Platform,
} from "../src/index.js";
import { toCoreError } from "../src/errors.js";
import { CoreProcess, waitFor } from "./core.js";

const run = randomUUID().slice(0, 8);
let core: CoreProcess;
let client: CoreClient;

before(async () => {
  // A retention of a few milliseconds, compacted every 20 ms: published events expire soon.
  core = await CoreProcess.start({
    COMMERCE_GATEWAY_RETENTION_HOURS: "0.000001",
    COMMERCE_GATEWAY_RETENTION_INTERVAL_SECONDS: "0.02",
  });
  client = new CoreClient({ target: core.address, backoff: { initialMs: 20, maximumMs: 200 } });
});

after(async () => {
  client.close();
  await core.stop();
});

/** The error the first read of a subscription from `afterSequence` fails with, if any. */
async function firstError(afterSequence: bigint): Promise<unknown> {
  const subscription = client.subscribeEvents({ afterSequence });
  const iterator = subscription[Symbol.asyncIterator]();
  try {
    await iterator.next();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    subscription.close();
  }
}

test("an expired cursor's oldest sequence comes from the core's ErrorInfo", async () => {
  const events = ["a", "b", "c"].map((name) => ({
    platform: Platform.SQUARE,
    sourceEventId: `ts-expired-${run}-${name}`,
    shop: "MERCHANT1",
    payload: { case: "inventoryUpdated" as const, value: { inventoryItemId: name, available: "1" } },
  }));
  await client.publishEvents(events);
  let error: unknown;
  await waitFor(async () => {
    error = await firstError(0n);
    return error instanceof CursorExpiredError;
  }, "compaction to expire sequence 0");
  assert.ok(error instanceof CursorExpiredError);
  assert.equal(error.code, Code.OutOfRange);
  assert.equal(error.errorInfo?.reason, "CURSOR_EXPIRED");
  assert.equal(error.errorInfo?.domain, "commercegateway.v1");
  assert.equal(error.errorInfo?.metadata.oldest_sequence, "4");
  assert.equal(error.oldestSequence, 4n);
  assert.match(error.details, /oldest available sequence is 4/); // the prose is kept
});

function outOfRange(message: string, metadata?: Record<string, string>, domain = "commercegateway.v1"): ConnectError {
  const error = new ConnectError(message, Code.OutOfRange);
  if (metadata !== undefined) {
    const info = create(ErrorInfoSchema, { reason: "CURSOR_EXPIRED", domain, metadata });
    error.details = [{ type: ErrorInfoSchema.typeName, value: toBinary(ErrorInfoSchema, info) }];
  }
  return error;
}

test("the ErrorInfo wins over the message", () => {
  const error = toCoreError(outOfRange("the oldest available sequence is 10", { oldest_sequence: "42" }));
  assert.ok(error instanceof CursorExpiredError);
  assert.equal(error.oldestSequence, 42n);
});

test("the message is the fallback of a core without ErrorInfo, or with a foreign one", () => {
  const plain = toCoreError(outOfRange("the oldest available sequence is 10"));
  assert.ok(plain instanceof CursorExpiredError);
  assert.equal(plain.oldestSequence, 10n);
  assert.equal(plain.errorInfo, undefined);
  const foreign = toCoreError(outOfRange("oldest 7", { oldest_sequence: "42" }, "example.com"));
  assert.ok(foreign instanceof CursorExpiredError);
  assert.equal(foreign.oldestSequence, 7n);
  const malformed = toCoreError(outOfRange("oldest 8", { oldest_sequence: "x" }));
  assert.ok(malformed instanceof CursorExpiredError);
  assert.equal(malformed.oldestSequence, 8n);
});
