// The TypeScript client against the real core: publish, subscribe, survive a SIGKILL restart.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Code } from "@connectrpc/connect";
import {
  CoreClient,
  CoreError,
  type Event,
  type EventSchema,
  EventKind,
  Platform,
  PublishOutcome,
  type ReconnectInfo,
} from "../src/index.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { CoreProcess, waitFor } from "./core.js";

const SHOP = "ts-client.myshopify.com";
const run = randomUUID().slice(0, 8);

function inventoryEvent(index: number): MessageInitShape<typeof EventSchema> {
  return {
    platform: Platform.SHOPIFY,
    sourceEventId: `ts-${run}-${index}`,
    shop: SHOP,
    topic: "inventory_levels/update",
    payload: {
      case: "inventoryUpdated",
      value: { inventoryItemId: `item-${index}`, locationId: "loc-1", available: String(10 + index) },
    },
  };
}

let core: CoreProcess;
let client: CoreClient;

before(async () => {
  core = await CoreProcess.start();
  client = new CoreClient({ target: core.address, backoff: { initialMs: 50, maximumMs: 300 } });
});

after(async () => {
  client.close();
  await core.stop();
});

/** Publishes, retrying while the restarted core is not reachable yet. */
async function publish(indexes: number[]): Promise<bigint[]> {
  let sequences: bigint[] = [];
  await waitFor(async () => {
    try {
      const results = await client.publishEvents(indexes.map(inventoryEvent));
      assert.ok(results.every((result) => result.outcome === PublishOutcome.STORED));
      sequences = results.map((result) => result.sequence);
      return true;
    } catch (error) {
      if (error instanceof CoreError && error.code === Code.Unavailable) {
        return false;
      }
      throw error;
    }
  }, "the core to accept a publish");
  return sequences;
}

test("a subscriber resumes across a SIGKILL restart with no gap and no duplicate", async () => {
  const received: Event[] = [];
  const reconnects: ReconnectInfo[] = [];
  const subscription = client.subscribeEvents({
    afterSequence: 0n,
    kinds: [EventKind.INVENTORY_UPDATED],
    onReconnect: (info) => reconnects.push(info),
  });
  const consumed = (async () => {
    for await (const event of subscription) {
      received.push(event);
    }
  })();

  const first = await publish([0, 1, 2]);
  await waitFor(() => received.length >= 3, "the first three events");
  await core.kill();
  await core.restart();
  const second = await publish([3, 4, 5]);
  await waitFor(() => received.length >= 6, "the events published after the restart");

  subscription.close();
  await consumed;
  assert.deepEqual(
    received.map((event) => event.sequence),
    [...first, ...second],
  );
  assert.deepEqual(
    received.map((event) => event.sourceEventId),
    [0, 1, 2, 3, 4, 5].map((index) => `ts-${run}-${index}`),
  );
  assert.ok(reconnects.length >= 1, "the subscription reported its reconnection");
  assert.equal(reconnects[0]?.cursor, first[2]);
  assert.equal(subscription.cursor, second[2]);
});

test("a failed call is a CoreError carrying the gRPC status", async () => {
  await assert.rejects(client.getSession(`no-such-session-${run}`), (error: unknown) => {
    assert.ok(error instanceof CoreError);
    assert.equal(error.code, Code.NotFound);
    assert.equal(error.reason, "not_found");
    return true;
  });
});

test("a live subscription starts after the head and misses nothing published after it", async () => {
  const before = await publish([100]);
  const subscription = client.subscribeEvents();
  const iterator = subscription[Symbol.asyncIterator]();
  const first = iterator.next();
  await waitFor(() => subscription.cursor !== undefined, "the head cursor");
  assert.equal(subscription.cursor, before[0]);
  const published = await publish([101]);
  const received = await first;
  subscription.close();
  await iterator.return();
  assert.equal(received.done, false);
  assert.equal(received.value?.sequence, published[0]);
  assert.equal(received.value?.sourceEventId, `ts-${run}-101`);
});
