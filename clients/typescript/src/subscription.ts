// Subscriptions that survive the network: reconnect with backoff and resume from the cursor.
import { Code } from "@connectrpc/connect";
import { type BackoffPolicy, backoffDelayMs, sleep } from "./backoff.js";
import { CoreError, toCoreError } from "./errors.js";

/** What an onReconnect hook is told before the client waits and reopens a stream. */
export interface ReconnectInfo {
  /** Which subscription: "alerts", "orders" or "events". */
  readonly stream: string;
  /** Consecutive failed attempts so far, from 1. */
  readonly attempt: number;
  /** Milliseconds the client waits before reopening. */
  readonly delayMs: number;
  /** The sequence the stream resumes after; undefined resumes live from now. */
  readonly cursor: bigint | undefined;
  /** Why the stream ended; undefined when the core closed it without an error. */
  readonly error: CoreError | undefined;
}

/** Options common to every subscription. */
export interface SubscribeOptions {
  /** Replay items after this sequence, then follow live; unset means live from now. */
  afterSequence?: bigint;
  /** Only items of this shop; empty means every shop. */
  shop?: string;
  /** Called before each reconnection, so callers can show it. */
  onReconnect?: (info: ReconnectInfo) => void;
  /** Called whenever the cursor advances (an item was handled, or a heartbeat), to persist it. */
  onCursor?: (sequence: bigint) => void;
  /** Ends the subscription when aborted. */
  signal?: AbortSignal;
}

/** Opens one stream attempt resuming after `after` (undefined: live). */
export type OpenStream<Resp> = (after: bigint | undefined, signal: AbortSignal) => AsyncIterable<Resp>;

// The core or the network went away, or the core dropped a subscriber that fell behind.
const RETRYABLE = new Set<Code>([Code.Unavailable, Code.ResourceExhausted, Code.Canceled, Code.Aborted]);

/** What every subscription of one client shares. */
export interface StreamSettings {
  /** The reconnection backoff. */
  readonly backoff: BackoffPolicy;
  /** Returns the log's current last sequence, the start of a "live from now" stream. */
  readonly head?: () => Promise<bigint>;
  /** Milliseconds without any response (item or heartbeat) after which the stream is reopened. */
  readonly idleTimeoutMs?: number;
}

/**
 * An async iterable of streamed items that reconnects and resumes across core restarts. Items
 * come once each and in sequence order; the cursor advances past an item when the caller asks
 * for the next one. Without afterSequence the stream starts after the log's current head. A
 * stream silent for longer than the idle timeout is reopened. A cursor older than retention
 * throws CursorExpiredError; any other non-retryable status throws CoreError. Iterate it once.
 */
export class Subscription<Item extends { sequence: bigint }, Resp extends { sequence: bigint }>
  implements AsyncIterable<Item>
{
  #cursor: bigint | undefined;
  readonly #controller = new AbortController();

  constructor(
    readonly stream: string,
    private readonly open: OpenStream<Resp>,
    private readonly itemsOf: (response: Resp) => readonly Item[],
    private readonly options: SubscribeOptions,
    private readonly settings: StreamSettings,
  ) {
    this.#cursor = options.afterSequence;
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** The sequence up to which everything has been handled; undefined before the first item. */
  get cursor(): bigint | undefined {
    return this.#cursor;
  }

  /** Ends the stream; a pending iteration finishes without an error. */
  close(): void {
    this.#controller.abort();
  }

  #advance(sequence: bigint): void {
    if (this.#cursor === undefined || sequence > this.#cursor) {
      this.#cursor = sequence;
      this.options.onCursor?.(sequence);
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Item, void, undefined> {
    const signal = this.#controller.signal;
    let attempt = 0;
    while (!signal.aborted) {
      let error: CoreError | undefined;
      const call = new AbortController(); // ends this attempt's stream, and only it
      const endCall = (): void => call.abort();
      signal.addEventListener("abort", endCall, { once: true });
      try {
        if (this.#cursor === undefined && this.settings.head !== undefined) {
          // "Live from now" becomes "after the log's current head": a real cursor from the
          // start, so a drop before the first response cannot skip anything.
          this.#advance(await this.settings.head());
        }
        const responses = this.open(this.#cursor, call.signal)[Symbol.asyncIterator]();
        for (let next = await this.#next(responses); !next.done; next = await this.#next(responses)) {
          attempt = 0;
          const floor = this.#cursor;
          for (const item of this.itemsOf(next.value)) {
            if (floor !== undefined && item.sequence <= floor) {
              continue; // already delivered before a reconnect
            }
            yield item;
            this.#advance(item.sequence);
          }
          this.#advance(next.value.sequence);
        }
      } catch (caught) {
        if (signal.aborted) {
          return;
        }
        error = toCoreError(caught);
        if (!RETRYABLE.has(error.code)) {
          throw error;
        }
      } finally {
        signal.removeEventListener("abort", endCall);
        call.abort();
      }
      attempt += 1;
      if (!(await this.#waitBeforeReconnect(attempt, error, signal))) {
        return;
      }
    }
  }

  /** The next response, or a CoreError(UNAVAILABLE) when none comes within the idle timeout. */
  async #next(responses: AsyncIterator<Resp>): Promise<IteratorResult<Resp>> {
    const limit = this.settings.idleTimeoutMs;
    if (limit === undefined) {
      return responses.next();
    }
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CoreError(Code.Unavailable, `no item or heartbeat for ${limit} ms`)), limit);
    });
    try {
      return await Promise.race([responses.next(), idle]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #waitBeforeReconnect(attempt: number, error: CoreError | undefined, signal: AbortSignal): Promise<boolean> {
    const delayMs = backoffDelayMs(this.settings.backoff, attempt);
    this.options.onReconnect?.({ stream: this.stream, attempt, delayMs, cursor: this.#cursor, error });
    try {
      await sleep(delayMs, signal);
      return true;
    } catch {
      return false;
    }
  }
}
