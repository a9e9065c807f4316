// Consumer groups from TypeScript against the real core: ack once, nack, extend, core restart.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Code } from "@connectrpc/connect";
import { CoreClient, CoreError, type Delivery, type GroupConsumer, Platform, truncateReason } from "../src/index.js";
import { CoreProcess, waitFor } from "./core.js";

const run = randomUUID().slice(0, 8);
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

/** Publishes one inventory event per name (distinct keys), retrying while the core restarts. */
async function publish(names: string[]): Promise<bigint[]> {
  let sequences: bigint[] = [];
  await waitFor(async () => {
    try {
      const events = names.map((name) => ({
        platform: Platform.SQUARE,
        sourceEventId: `ts-groups-${run}-${name}`,
        shop: "MERCHANT1",
        payload: { case: "inventoryUpdated" as const, value: { inventoryItemId: name, available: "3" } },
      }));
      sequences = (await client.publishEvents(events)).map((result) => result.sequence);
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

/** The next `count` deliveries of an open iterator, within 20 s. */
async function take(deliveries: AsyncIterator<Delivery>, count: number): Promise<Delivery[]> {
  const taken: Delivery[] = [];
  const deadline = Date.now() + 20_000;
  while (taken.length < count) {
    const remaining = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} deliveries`)), Math.max(0, remaining));
    });
    try {
      const next = await Promise.race([deliveries.next(), timeout]);
      assert.equal(next.done, false, "the consumer ended");
      taken.push(next.value as Delivery);
    } finally {
      clearTimeout(timer);
    }
  }
  return taken;
}

async function settled(group: string): Promise<boolean> {
  const state = await client.getGroup(group);
  return state !== undefined && state.lag === 0n && state.inFlight === 0n;
}

async function closeConsumer(consumer: GroupConsumer, iterator: AsyncIterator<Delivery>): Promise<void> {
  consumer.close();
  await iterator.return?.();
}

test("each event is delivered once; an acked event never again", async () => {
  const sequences = await publish(["once-a", "once-b", "once-c"]);
  const consumer = client.consume(`once-${run}`, { startAfter: sequences[0]! - 1n });
  const iterator = consumer[Symbol.asyncIterator]();
  const deliveries = await take(iterator, 3);
  assert.deepEqual(
    deliveries.map((d) => d.event.sequence).sort(),
    [...sequences].sort(),
  );
  assert.deepEqual(
    deliveries.map((d) => d.attempt),
    [1, 1, 1],
  );
  assert.deepEqual(await Promise.all(deliveries.map((d) => d.ack())), [true, true, true]);
  assert.equal(await deliveries[0]!.ack(), false, "a second answer does nothing");
  await waitFor(() => settled(`once-${run}`), "the acks to be applied");
  await closeConsumer(consumer, iterator);

  const later = await publish(["once-later"]);
  const again = client.consume(`once-${run}`);
  const next = again[Symbol.asyncIterator]();
  const [delivery] = await take(next, 1);
  assert.equal(delivery!.event.sequence, later[0]);
  assert.equal(await delivery!.ack(), true);
  await waitFor(() => settled(`once-${run}`), "the last ack");
  await closeConsumer(again, next);
});

test("a nacked event comes again with attempt 2; an extended one outlives its deadline", async () => {
  const [kept, nacked] = await publish(["kept", "nacked"]);
  const group = `nack-${run}`;
  const consumer = client.consume(group, { startAfter: kept! - 1n, ackDeadlineSeconds: 1 });
  const iterator = consumer[Symbol.asyncIterator]();
  const [first, second] = (await take(iterator, 2)).sort((a, b) => Number(a.event.sequence - b.event.sequence));
  assert.equal(first!.event.sequence, kept);
  assert.equal(await first!.extend(60), true);
  assert.equal(await second!.nack("try later", { delaySeconds: 1 }), true);
  const [again] = await take(iterator, 1);
  assert.equal(again!.event.sequence, nacked, "the extended delivery did not come again");
  assert.equal(again!.attempt, 2);
  assert.equal(await first!.ack(), true);
  assert.equal(await again!.ack(), true);
  await waitFor(() => settled(group), "the acks to be applied");
  await closeConsumer(consumer, iterator);
});

test("a consumer continues after a core SIGKILL restart; the old stream's deliveries are void", async () => {
  const sequences = await publish(["r0", "r1"]);
  const group = `restart-${run}`;
  const reconnects: string[] = [];
  const consumer = client.consume(group, {
    startAfter: sequences[0]! - 1n,
    ackDeadlineSeconds: 2,
    onReconnect: (info) => reconnects.push(info.stream),
  });
  const iterator = consumer[Symbol.asyncIterator]();
  const [acked, held] = (await take(iterator, 2)).sort((a, b) => Number(a.event.sequence - b.event.sequence));
  assert.equal(await acked!.ack(), true);
  await waitFor(async () => (await client.getGroup(group))?.ackedThroughSequence === acked!.event.sequence, "the ack to be stored");
  await core.kill();
  // Noticed while the caller holds a delivery and reads nothing: it is void, its ack does nothing.
  await waitFor(() => held!.void, "the dead stream to void the held delivery");
  assert.equal(await held!.ack(), false);
  await core.restart();
  const later = await publish(["r-later"]);
  const after = await take(iterator, 2);
  assert.deepEqual(
    after.map((d) => [d.event.sequence, d.attempt]).sort((a, b) => Number((a[0] as bigint) - (b[0] as bigint))),
    [
      [held!.event.sequence, 2],
      [later[0], 1],
    ],
  );
  assert.equal(await held!.nack(), false, "still void after the reconnect");
  assert.deepEqual(await Promise.all(after.map((d) => d.ack())), [true, true]);
  await waitFor(() => settled(group), "the acks after the restart");
  assert.ok(reconnects.includes(`group ${group}`));
  await closeConsumer(consumer, iterator);
});

test("nack reasons are cut to 1,024 UTF-8 bytes, never inside a character", () => {
  assert.equal(truncateReason("short"), "short");
  const cut = truncateReason(`x${"é".repeat(600)}`);
  assert.equal(Buffer.byteLength(cut), 1023);
  assert.ok(cut.endsWith("é"));
  assert.throws(() => client.consume("bad name"), /group name/);
  assert.throws(() => client.consume("ok", { maxUnacked: 0 }), RangeError);
});
