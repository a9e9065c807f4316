// Backoff and error parsing: pure functions, no core needed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelayMs, DEFAULT_BACKOFF, parseOldestSequence } from "../src/index.js";

test("backoff grows with jitter and stays capped", () => {
  const policy = { initialMs: 100, maximumMs: 1000, multiplier: 2 };
  for (const [attempt, ceiling] of [[1, 100], [2, 200], [3, 400], [5, 1000], [500, 1000]] as const) {
    assert.equal(backoffDelayMs(policy, attempt, () => 0), ceiling / 2);
    assert.equal(backoffDelayMs(policy, attempt, () => 1), ceiling);
  }
  assert.ok(backoffDelayMs(DEFAULT_BACKOFF, 1) <= DEFAULT_BACKOFF.initialMs);
});

test("the oldest available sequence is read from the OUT_OF_RANGE message", () => {
  const message = "after_sequence 3 is older than the retained log; the oldest available sequence is 10";
  assert.equal(parseOldestSequence(message), 10n);
  assert.equal(parseOldestSequence("cursor expired"), undefined);
});
