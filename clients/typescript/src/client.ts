// CoreClient: typed calls to the core's RPCs over gRPC (HTTP/2) and resumable subscriptions.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { type BackoffPolicy, DEFAULT_BACKOFF } from "./backoff.js";
import { checkGroupName, type ConsumeOptions, GroupConsumer, MAX_UNACKED, wholeSeconds } from "./consumer.js";
import { toCoreError } from "./errors.js";
import {
  type ConsumerGroup,
  CoreService,
  type InventoryLevel,
  type ListParkedEventsResponse,
  type ListInventoryLevelsResponse,
  type PublishResult,
  type Session,
  type SessionBindingSchema,
  type SubscribeEventsResponse,
  type SubscribeInventoryAlertsResponse,
  type SubscribeOrderCompletionsResponse,
} from "./gen/commercegateway/v1/core_service_pb.js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Event, EventKind, EventSchema, InventoryAlert, OrderCompletion } from "./gen/commercegateway/v1/events_pb.js";
import { type StreamSettings, type SubscribeOptions, Subscription } from "./subscription.js";

/**
 * The largest message the client accepts, in bytes: the core sends stream responses of about
 * 1 MiB, or one event alone when it is larger (events are at most 4 MiB even when the core's
 * max_event_bytes is raised to its ceiling), so 8 MiB leaves a twofold margin.
 */
export const MAX_RECEIVE_MESSAGE_BYTES = 8 * 1024 * 1024;

/** How to reach the core. */
export interface CoreClientOptions {
  /** The core's address: "host:port", or a URL "http://host:port" / "https://host:port". */
  target: string;
  /** Bearer token sent as `authorization` metadata; unset sends none. */
  token?: string;
  /** TLS: true trusts the system's roots; `{ ca }` trusts these PEM CAs; unset is plaintext. */
  tls?: boolean | { ca: string | Buffer };
  /** Deadline of unary calls in milliseconds (default 10,000). */
  timeoutMs?: number;
  /** Reconnection backoff of subscriptions (default 100 ms doubling up to 5 s). */
  backoff?: Partial<BackoffPolicy>;
  /**
   * A subscription that receives nothing (no item, no heartbeat) for this long is reopened
   * (default 60,000 ms; keep it above the core's heartbeat interval, 15 s by default; 0 never).
   */
  idleTimeoutMs?: number;
}

function baseUrlOf(target: string, tls: CoreClientOptions["tls"]): string {
  if (/^https?:\/\//.test(target)) {
    return target;
  }
  if (!/^[^:/]+:\d+$/.test(target) && !/^\[[^\]]+\]:\d+$/.test(target)) {
    throw new Error(`core target must be host:port, got ${JSON.stringify(target)}`);
  }
  return `${tls ? "https" : "http"}://${target}`;
}

/** An async client of the core's CoreService; every failed call throws CoreError. */
export class CoreClient {
  readonly #client: Client<typeof CoreService>;
  readonly #sessions: Http2SessionManager;
  readonly #timeoutMs: number;
  readonly #streams: StreamSettings;

  constructor(options: CoreClientOptions) {
    const baseUrl = baseUrlOf(options.target, options.tls);
    const nodeOptions = typeof options.tls === "object" ? { ca: options.tls.ca } : {};
    this.#sessions = new Http2SessionManager(baseUrl, {}, nodeOptions);
    const interceptors: Interceptor[] = [];
    const token = options.token;
    if (token) {
      interceptors.push((next) => (request) => {
        request.header.set("authorization", `Bearer ${token}`);
        return next(request);
      });
    }
    const transport = createGrpcTransport({
      baseUrl,
      sessionManager: this.#sessions,
      interceptors,
      readMaxBytes: MAX_RECEIVE_MESSAGE_BYTES,
    });
    this.#client = createClient(CoreService, transport);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.#streams = {
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      head: () => this.#head(),
      idleTimeoutMs: idleTimeoutMs > 0 ? idleTimeoutMs : undefined,
    };
  }

  /** Closes the HTTP/2 connection; open subscriptions end with an error. */
  close(): void {
    this.#sessions.abort();
  }

  async #unary<T>(call: (options: CallOptions) => Promise<T>): Promise<T> {
    try {
      return await call({ timeoutMs: this.#timeoutMs });
    } catch (error) {
      throw toCoreError(error);
    }
  }

  /** Stores events idempotently; returns one result per event, in order. */
  async publishEvents(events: MessageInitShape<typeof EventSchema>[]): Promise<PublishResult[]> {
    const response = await this.#unary((o) => this.#client.publishEvents({ events }, o));
    return response.results;
  }

  /** Returns the stored level of one item at one location (NOT_FOUND when unknown). */
  async getInventoryLevel(shop: string, inventoryItemId: string, locationId = ""): Promise<InventoryLevel | undefined> {
    const response = await this.#unary((o) => this.#client.getInventoryLevel({ shop, inventoryItemId, locationId }, o));
    return response.level;
  }

  /** Returns one page of levels and the sequence they are consistent with. */
  listInventoryLevels(request: { shop?: string; pageSize?: number; pageToken?: string } = {}): Promise<ListInventoryLevelsResponse> {
    return this.#unary((o) => this.#client.listInventoryLevels(request, o));
  }

  /** The log's current last sequence (what listInventoryLevels is consistent with). */
  async #head(): Promise<bigint> {
    return (await this.listInventoryLevels({ pageSize: 1 })).sequence;
  }

  /** Returns a conversational session (NOT_FOUND when unknown). */
  async getSession(sessionId: string): Promise<Session | undefined> {
    return (await this.#unary((o) => this.#client.getSession({ sessionId }, o))).session;
  }

  /** Binds cart tokens, checkout ids or order ids to a session; returns the session. */
  async bindSession(sessionId: string, shop: string, bindings: MessageInitShape<typeof SessionBindingSchema>[]): Promise<Session | undefined> {
    return (await this.#unary((o) => this.#client.bindSession({ sessionId, shop, bindings }, o))).session;
  }

  /** Streams inventory alerts; see Subscription for the reconnect-and-resume behaviour. */
  subscribeInventoryAlerts(options: SubscribeOptions = {}): Subscription<InventoryAlert, SubscribeInventoryAlertsResponse> {
    const shop = options.shop ?? "";
    return new Subscription(
      "alerts",
      (afterSequence, signal) => this.#client.subscribeInventoryAlerts({ afterSequence, shop }, { signal }),
      (response) => response.alerts,
      options,
      this.#streams,
    );
  }

  /** Streams order completions; see Subscription for the reconnect-and-resume behaviour. */
  subscribeOrderCompletions(options: SubscribeOptions = {}): Subscription<OrderCompletion, SubscribeOrderCompletionsResponse> {
    const shop = options.shop ?? "";
    return new Subscription(
      "orders",
      (afterSequence, signal) => this.#client.subscribeOrderCompletions({ afterSequence, shop }, { signal }),
      (response) => response.completions,
      options,
      this.#streams,
    );
  }

  /** Streams canonical events, optionally only of some kinds; resumes across restarts. */
  subscribeEvents(options: SubscribeOptions & { kinds?: EventKind[] } = {}): Subscription<Event, SubscribeEventsResponse> {
    const shop = options.shop ?? "";
    const kinds = options.kinds ?? [];
    return new Subscription(
      "events",
      (afterSequence, signal) => this.#client.subscribeEvents({ afterSequence, shop, kinds }, { signal }),
      (response) => response.events,
      options,
      this.#streams,
    );
  }

  /**
   * Joins consumer group `group` as a member: an async iterable of Delivery objects (see
   * GroupConsumer). The group is created on first use with this filter and start; a later
   * member must give the same filter. Throws for a malformed name or a limit out of range.
   */
  consume(group: string, options: ConsumeOptions = {}): GroupConsumer {
    checkGroupName(group);
    const maxUnacked = options.maxUnacked ?? 100;
    if (!Number.isInteger(maxUnacked) || maxUnacked < 1 || maxUnacked > MAX_UNACKED) {
      throw new RangeError(`maxUnacked must be 1 to ${MAX_UNACKED}, got ${maxUnacked}`);
    }
    const start = {
      group,
      shop: options.shop ?? "",
      kinds: options.kinds ?? [],
      startAfterSequence: options.startAfter,
      maxUnacked,
      ackDeadlineSeconds: wholeSeconds(options.ackDeadlineSeconds ?? 30, 1, "ackDeadlineSeconds"),
    };
    return new GroupConsumer(group, start, (requests, signal) => this.#client.consumeEvents(requests, { signal }), options, this.#streams);
  }

  /** Returns every consumer group, by name, with its lag, in-flight and parked counts. */
  async listGroups(): Promise<ConsumerGroup[]> {
    return (await this.#unary((o) => this.#client.listGroups({}, o))).groups;
  }

  /** Returns one consumer group with its members (NOT_FOUND when it does not exist). */
  async getGroup(group: string): Promise<ConsumerGroup | undefined> {
    return (await this.#unary((o) => this.#client.getGroup({ group }, o))).group;
  }

  /** Returns one page of a group's parked events, in sequence order (pageSize 0: 100). */
  listParkedEvents(group: string, request: { pageSize?: number; pageToken?: string } = {}): Promise<ListParkedEventsResponse> {
    return this.#unary((o) => this.#client.listParkedEvents({ group, ...request }, o));
  }

  /** Puts parked events back (no sequences: every one); returns how many were put back. */
  async redriveParkedEvents(group: string, sequences: bigint[] = []): Promise<bigint> {
    return (await this.#unary((o) => this.#client.redriveParkedEvents({ group, sequences }, o))).redriven;
  }

  /** Deletes a group with its position and parked events. */
  async deleteGroup(group: string): Promise<void> {
    await this.#unary((o) => this.#client.deleteGroup({ group }, o));
  }

  /** Moves a group: events after `to` (a sequence, or a receive time) are delivered next. */
  async seekGroup(group: string, to: bigint | Date): Promise<ConsumerGroup | undefined> {
    const target =
      typeof to === "bigint" ? { case: "sequence" as const, value: to } : { case: "time" as const, value: timestampFromDate(to) };
    return (await this.#unary((o) => this.#client.seekGroup({ group, target }, o))).group;
  }
}
