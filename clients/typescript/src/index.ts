// The commerce-gateway TypeScript client: CoreClient, resumable subscriptions, errors, messages.
export { type BackoffPolicy, DEFAULT_BACKOFF, backoffDelayMs } from "./backoff.js";
export { CoreClient, type CoreClientOptions, MAX_RECEIVE_MESSAGE_BYTES } from "./client.js";
export { CoreError, CursorExpiredError, parseOldestSequence, type Reason } from "./errors.js";
export { type ReconnectInfo, type SubscribeOptions, Subscription } from "./subscription.js";
export * from "./gen/commercegateway/v1/core_service_pb.js";
export * from "./gen/commercegateway/v1/events_pb.js";
