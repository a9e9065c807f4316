// Consumer groups: a member receives deliveries of a group's events and acks, nacks or extends.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { backoffDelayMs, sleep } from "./backoff.js";
import { CoreError, toCoreError } from "./errors.js";
import type {
  ConsumeEventsRequestSchema,
  ConsumeExtensionSchema,
  ConsumeNackSchema,
  ConsumeEventsResponse,
  ConsumeStartSchema,
  ConsumerDelivery,
} from "./gen/commercegateway/v1/core_service_pb.js";
import type { Event, EventKind } from "./gen/commercegateway/v1/events_pb.js";
import type { ReconnectInfo, StreamSettings } from "./subscription.js";

/** The most deliveries a member may hold unacknowledged (the core's ceiling). */
export const MAX_UNACKED = 1000;
/** The longest ack deadline, extension or nack delay, in seconds (the core's ceiling). */
export const MAX_SECONDS = 3600;
/** The longest nack reason, in UTF-8 bytes; longer reasons are truncated. */
export const MAX_REASON_BYTES = 1024;
/** The most acks, nacks and extensions sent in one request (the core's ceiling). */
export const MAX_ANSWERS_PER_REQUEST = 1000;
/** How long closing waits for the queued answers to be sent and the core to end the stream. */
export const CLOSE_GRACE_MS = 2000;

const GROUP_NAME = /^[A-Za-z0-9._-]{1,128}$/;
// The core or the network went away: rejoin the group with the same start.
const RETRYABLE = new Set<Code>([Code.Unavailable, Code.ResourceExhausted, Code.Canceled, Code.Aborted]);

type Request = MessageInitShape<typeof ConsumeEventsRequestSchema>;
type Answer =
  | { ackId: string }
  | { nack: { ackId: string; reason: string; delaySeconds: number } }
  | { extension: { ackId: string; seconds: number } };

/** How a member consumes a group; the filter and start apply when the group is created. */
export interface ConsumeOptions {
  /** Only events of these kinds; empty means every kind. */
  kinds?: EventKind[];
  /** Only events of this shop; empty means every shop. */
  shop?: string;
  /** Where a new group starts: events after this sequence; unset means from now. */
  startAfter?: bigint;
  /** The most deliveries this member holds unacknowledged: 1 to 1,000 (default 100). */
  maxUnacked?: number;
  /** Seconds before an unacknowledged delivery goes to another member: 1 to 3,600 (default 30). */
  ackDeadlineSeconds?: number;
  /** Called before each reconnection (stream "group NAME", cursor always undefined). */
  onReconnect?: (info: ReconnectInfo) => void;
  /** Ends the consumer when aborted. */
  signal?: AbortSignal;
}

/** Opens one ConsumeEvents stream fed by `requests`. */
export type OpenConsume = (requests: AsyncIterable<Request>, signal: AbortSignal) => AsyncIterable<ConsumeEventsResponse>;

/** Throws unless `group` is 1 to 128 letters, digits, ".", "_" or "-". */
export function checkGroupName(group: string): string {
  if (!GROUP_NAME.test(group)) {
    throw new Error(`a group name is 1 to 128 letters, digits, '.', '_' or '-', got ${JSON.stringify(group)}`);
  }
  return group;
}

/** Returns `reason` cut to at most `limit` UTF-8 bytes, never inside a character. */
export function truncateReason(reason: string, limit = MAX_REASON_BYTES): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= limit) {
    return reason;
  }
  let cut = limit;
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) {
    cut -= 1; // a continuation byte: back up to the start of its character
  }
  return new TextDecoder().decode(bytes.subarray(0, cut));
}

/** Returns `seconds` rounded up, checked to be within [minimum, MAX_SECONDS]. */
export function wholeSeconds(seconds: number, minimum: number, name: string): number {
  const whole = Number.isFinite(seconds) ? Math.ceil(seconds) : MAX_SECONDS + 1;
  if (whole < minimum || whole > MAX_SECONDS) {
    throw new RangeError(`${name} must be ${minimum} to ${MAX_SECONDS} seconds, got ${seconds}`);
  }
  return whole;
}

/** One stream attempt: the request stream it writes and the answers queued for it. */
class Link {
  live = true;
  #queue: { answer: Answer; sent: (written: boolean) => void }[] = [];
  #wake: (() => void) | undefined;
  #drained: (() => void)[] = [];
  #ended = false;

  constructor(private readonly start: MessageInitShape<typeof ConsumeStartSchema>) {}

  /** Queues an answer; resolves true once handed to the stream, false when the stream ended. */
  send(answer: Answer): Promise<boolean> {
    if (!this.live) {
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      this.#queue.push({ answer, sent: resolve });
      this.#wake?.();
    });
  }

  /** The request stream: the start, then every answer ready at once in one request. */
  async *requests(): AsyncGenerator<Request, void, undefined> {
    yield { start: this.start };
    try {
      while (!this.#ended) {
        if (this.#queue.length === 0) {
          for (const resolve of this.#drained.splice(0)) {
            resolve();
          }
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          this.#wake = undefined;
          continue;
        }
        const batch = this.#queue.splice(0, MAX_ANSWERS_PER_REQUEST);
        const ackIds: string[] = [];
        const nacks: MessageInitShape<typeof ConsumeNackSchema>[] = [];
        const extensions: MessageInitShape<typeof ConsumeExtensionSchema>[] = [];
        for (const { answer } of batch) {
          if ("ackId" in answer) {
            ackIds.push(answer.ackId);
          } else if ("nack" in answer) {
            nacks.push(answer.nack);
          } else {
            extensions.push(answer.extension);
          }
        }
        yield { ackIds, nacks, extensions };
        for (const { sent } of batch) {
          sent(this.live);
        }
      }
    } finally {
      this.#end();
    }
  }

  /** Resolves once every queued answer was handed to the stream (or after `ms`). */
  async drained(ms: number): Promise<void> {
    if (this.#queue.length === 0 || !this.live) {
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#drained.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Ends the request stream (a half-close) and voids what is still queued. */
  #end(): void {
    this.live = false;
    this.#ended = true;
    for (const { sent } of this.#queue.splice(0)) {
      sent(false);
    }
    for (const resolve of this.#drained.splice(0)) {
      resolve();
    }
    this.#wake?.();
  }

  /** Stops taking answers: the request stream ends at its next step. */
  end(): void {
    this.#end();
  }
}

/**
 * The responses of one stream, read ahead as they come so that a dead stream is noticed (and
 * its link ended, voiding its deliveries and answering pending acks with false) even while the
 * caller is busy with a delivery. It holds at most maxUnacked deliveries not yet taken: the
 * core never has more outstanding for a member (more ends the stream with INTERNAL).
 */
class Pump {
  readonly done: Promise<void>;
  readonly #deliveries: ConsumerDelivery[] = [];
  #ended = false;
  #error: unknown;
  #wake: (() => void) | undefined;

  constructor(
    responses: AsyncIterator<ConsumeEventsResponse>,
    link: Link,
    maxUnacked: number,
    next: (responses: AsyncIterator<ConsumeEventsResponse>) => Promise<IteratorResult<ConsumeEventsResponse>>,
    onResponse: () => void,
  ) {
    this.done = this.#run(responses, link, maxUnacked, next, onResponse);
  }

  async #run(
    responses: AsyncIterator<ConsumeEventsResponse>,
    link: Link,
    maxUnacked: number,
    next: (responses: AsyncIterator<ConsumeEventsResponse>) => Promise<IteratorResult<ConsumeEventsResponse>>,
    onResponse: () => void,
  ): Promise<void> {
    try {
      for (let result = await next(responses); !result.done; result = await next(responses)) {
        onResponse();
        const count = this.#deliveries.length + result.value.deliveries.length;
        if (count > maxUnacked) {
          throw new CoreError(Code.Internal, `the core sent ${count} deliveries not yet taken, more than maxUnacked ${maxUnacked}`);
        }
        this.#deliveries.push(...result.value.deliveries);
        this.#wake?.();
      }
    } catch (error) {
      this.#error = error;
    } finally {
      this.#ended = true;
      link.end();
      this.#wake?.();
    }
  }

  /** The next delivery; undefined once the stream ended cleanly; throws its error otherwise. */
  async take(): Promise<ConsumerDelivery | undefined> {
    for (;;) {
      const message = this.#deliveries.shift();
      if (message !== undefined) {
        return message;
      }
      if (this.#ended) {
        if (this.#error !== undefined) {
          throw this.#error;
        }
        return undefined;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

/**
 * One event of a group handed to this member; answer it with ack, nack or extend. When the
 * stream it came on ends (core restart, network drop, close), the delivery is void: the core
 * hands its event again, and ack, nack and extend of the void delivery resolve false without
 * effect. They also resolve false once the delivery was acked or nacked. Delivery is at least
 * once: handle events idempotently.
 */
export class Delivery {
  /** The canonical event. */
  readonly event: Event;
  /** Which attempt this is, from 1; the group parks the event after its maximum. */
  readonly attempt: number;
  /** The token the core knows this delivery by. */
  readonly ackId: string;
  /** When the event goes to another member unless acked or extended. */
  deadline: Date | undefined;
  #settled = false;

  constructor(
    message: ConsumerDelivery,
    private readonly link: Link,
  ) {
    if (message.event === undefined) {
      throw new CoreError(Code.Internal, "the core sent a delivery without an event");
    }
    this.event = message.event;
    this.attempt = message.attempt;
    this.ackId = message.ackId;
    this.deadline = message.deadline ? timestampDate(message.deadline) : undefined;
  }

  /** True once the stream this delivery came on has ended. */
  get void(): boolean {
    return !this.link.live;
  }

  /** True once ack or nack was called. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Marks the event handled; true once sent on the stream, false when settled or void. */
  ack(): Promise<boolean> {
    if (this.#settled) {
      return Promise.resolve(false);
    }
    this.#settled = true;
    return this.link.send({ ackId: this.ackId });
  }

  /**
   * Asks for the event again, no sooner than `delaySeconds` (0: the core's backoff); after the
   * group's maximum attempts it is parked with `reason` (cut to 1,024 UTF-8 bytes).
   */
  nack(reason = "", options: { delaySeconds?: number } = {}): Promise<boolean> {
    const delaySeconds = wholeSeconds(options.delaySeconds ?? 0, 0, "delaySeconds");
    if (this.#settled) {
      return Promise.resolve(false);
    }
    this.#settled = true;
    return this.link.send({ nack: { ackId: this.ackId, reason: truncateReason(reason), delaySeconds } });
  }

  /** Moves the deadline to `seconds` from now (1 to 3,600, rounded up), for long work. */
  async extend(seconds: number): Promise<boolean> {
    const whole = wholeSeconds(seconds, 1, "extension");
    if (this.#settled) {
      return false;
    }
    const sent = await this.link.send({ extension: { ackId: this.ackId, seconds: whole } });
    if (sent) {
      this.deadline = new Date(Date.now() + whole * 1000);
    }
    return sent;
  }
}

/**
 * An async iterable of a consumer group's deliveries to this member that rejoins the group
 * after a drop, like the broadcast subscriptions (same backoff, statuses and idle timeout).
 * The core sends at most maxUnacked unacknowledged deliveries, so the local buffer holds at
 * most that many (a response with more throws CoreError INTERNAL). A group whose filter
 * differs throws CoreError FAILED_PRECONDITION. close() ends it: answers in flight are sent
 * first (within 2 s) and the unacknowledged deliveries go to other members. Iterate it once.
 */
export class GroupConsumer implements AsyncIterable<Delivery> {
  readonly #controller = new AbortController();

  constructor(
    readonly group: string,
    private readonly start: MessageInitShape<typeof ConsumeStartSchema>,
    private readonly open: OpenConsume,
    private readonly options: ConsumeOptions,
    private readonly settings: StreamSettings,
  ) {
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** The most deliveries this member holds unacknowledged. */
  get maxUnacked(): number {
    return this.start.maxUnacked ?? 100;
  }

  /** Ends the consumer; a pending iteration finishes without an error. */
  close(): void {
    this.#controller.abort();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Delivery, void, undefined> {
    const signal = this.#controller.signal;
    let attempt = 0;
    while (!signal.aborted) {
      let error: CoreError | undefined;
      const call = new AbortController();
      const link = new Link(this.start);
      const endCall = (): void => {
        // Leave gracefully: send what is queued, half-close, and let the core end the stream.
        void link.drained(CLOSE_GRACE_MS).then(() => {
          link.end();
          setTimeout(() => call.abort(), CLOSE_GRACE_MS).unref();
        });
      };
      signal.addEventListener("abort", endCall, { once: true });
      let pump: Pump | undefined;
      let finished = false; // the stream ended by itself (not by the caller leaving the loop)
      try {
        const responses = this.open(link.requests(), call.signal)[Symbol.asyncIterator]();
        pump = new Pump(responses, link, this.maxUnacked, (it) => this.#next(it), () => {
          attempt = 0;
        });
        for (let message = await pump.take(); message !== undefined; message = await pump.take()) {
          if (link.live && !signal.aborted) {
            yield new Delivery(message, link); // else void: dropped while the stream ends
          }
        }
        finished = true;
      } catch (caught) {
        finished = true;
        if (signal.aborted) {
          return;
        }
        error = toCoreError(caught);
        if (!RETRYABLE.has(error.code)) {
          throw error;
        }
      } finally {
        signal.removeEventListener("abort", endCall);
        if (!finished && !signal.aborted) {
          await this.#leave(link, pump); // the caller left the loop
        }
        link.end();
        call.abort();
      }
      if (signal.aborted) {
        return;
      }
      attempt += 1;
      if (!(await this.#waitBeforeReconnect(attempt, error, signal))) {
        return;
      }
    }
  }

  /** Sends the queued answers, half-closes, and waits (bounded) for the core to end the stream. */
  async #leave(link: Link, pump: Pump | undefined): Promise<void> {
    await link.drained(CLOSE_GRACE_MS);
    link.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      pump?.done,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /** The next response, or a CoreError(UNAVAILABLE) when none comes within the idle timeout. */
  async #next(responses: AsyncIterator<ConsumeEventsResponse>): Promise<IteratorResult<ConsumeEventsResponse>> {
    const limit = this.settings.idleTimeoutMs;
    if (limit === undefined) {
      return responses.next();
    }
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CoreError(Code.Unavailable, `no delivery or heartbeat for ${limit} ms`)), limit);
    });
    try {
      return await Promise.race([responses.next(), idle]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #waitBeforeReconnect(attempt: number, error: CoreError | undefined, signal: AbortSignal): Promise<boolean> {
    const delayMs = backoffDelayMs(this.settings.backoff, attempt);
    this.options.onReconnect?.({ stream: `group ${this.group}`, attempt, delayMs, cursor: undefined, error });
    try {
      await sleep(delayMs, signal);
      return true;
    } catch {
      return false;
    }
  }
}
