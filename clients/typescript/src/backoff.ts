// Jittered, capped exponential backoff between reconnection attempts.

/** Backoff settings, in milliseconds. */
export interface BackoffPolicy {
  /** The first delay (default 100 ms). */
  readonly initialMs: number;
  /** The cap on any delay (default 5,000 ms). */
  readonly maximumMs: number;
  /** The growth factor per failed attempt (default 2). */
  readonly multiplier: number;
}

/** The defaults: 100 ms doubling up to 5 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maximumMs: 5000, multiplier: 2 };

/**
 * Returns the delay before the `attempt`-th consecutive retry (from 1): a uniformly random time
 * in [ceiling/2, ceiling] where ceiling = min(maximum, initial * multiplier ** (attempt - 1)).
 */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random = Math.random): number {
  const exponent = Math.min(Math.max(0, attempt - 1), 64);
  const ceiling = Math.min(policy.maximumMs, policy.initialMs * policy.multiplier ** exponent);
  return ceiling * (0.5 + random() / 2);
}

/** Resolves after `ms`, or rejects when `signal` aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
