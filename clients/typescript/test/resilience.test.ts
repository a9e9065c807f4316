// Resumption without a crash: a silent stream (idle timeout) and a subscriber dropped as slow.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { CoreClient, type Event, Platform, type ReconnectInfo } from "../src/index.js";
import { CoreProcess, waitFor } from "./core.js";

const run = randomUUID().slice(0, 8);
let core: CoreProcess;
let client: CoreClient;

before(async () => {
  // No heartbeat for a minute, and room for only 2 queued items per subscriber.
  core = await CoreProcess.start({
    COMMERCE_GATEWAY_HEARTBEAT_SECONDS: "60",
    COMMERCE_GATEWAY_SUBSCRIBER_QUEUE: "2",
  });
  client = new CoreClient({ target: core.address, backoff: { initialMs: 20, maximumMs: 200 } });
});

after(async () => {
  client.close();
  await core.stop();
});

function publish(names: string[]): Promise<bigint[]> {
  const events = names.map((name) => ({
    platform: Platform.SQUARE,
    sourceEventId: `ts-res-${run}-${name}`,
    shop: "MERCHANT1",
    payload: { case: "inventoryUpdated" as const, value: { inventoryItemId: name, available: "3" } },
  }));
  return client.publishEvents(events).then((results) => results.map((result) => result.sequence));
}

test("a stream silent past the idle timeout is reopened and still delivers", async () => {
  const silent = new CoreClient({ target: core.address, idleTimeoutMs: 100, backoff: { initialMs: 20, maximumMs: 200 } });
  const reconnects: ReconnectInfo[] = [];
  const subscription = silent.subscribeEvents({ onReconnect: (info) => reconnects.push(info) });
  const iterator = subscription[Symbol.asyncIterator]();
  const first = iterator.next();
  await waitFor(() => reconnects.length >= 2, "reconnections of the silent stream");
  const published = await publish(["after-idle"]);
  const received = await first;
  subscription.close();
  await iterator.return();
  silent.close();

  assert.equal(received.value?.sequence, published[0]);
  assert.equal(reconnects[0]?.error?.reason, "unavailable");
  assert.match(reconnects[0]?.error?.details ?? "", /no item or heartbeat/);
});

test("a subscriber dropped as too slow resumes with each item once, in order", async () => {
  const reconnects: ReconnectInfo[] = [];
  const received: Event[] = [];
  const subscription = client.subscribeEvents({ onReconnect: (info) => reconnects.push(info) });
  const consumed = (async () => {
    for await (const event of subscription) {
      received.push(event);
    }
  })();
  await waitFor(() => subscription.cursor !== undefined, "the head cursor");
  // Once the warm-up event arrived, the core has registered the live subscriber.
  const warmUp = await publish(["warm-up"]);
  await waitFor(() => received.length === 1, "the warm-up event");
  const burst = await publish(Array.from({ length: 40 }, (_, index) => `burst-${index}`));
  await waitFor(() => received.length === 41, "the burst");
  subscription.close();
  await consumed;

  assert.deepEqual(received.map((event) => event.sequence), [...warmUp, ...burst]);
  assert.deepEqual(reconnects.map((info) => info.error?.reason), ["resource_exhausted"]);
});
