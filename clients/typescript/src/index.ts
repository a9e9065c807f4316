// The commerce-gateway TypeScript client: CoreClient, resumable subscriptions, errors, messages.
export { type BackoffPolicy, DEFAULT_BACKOFF, backoffDelayMs } from "./backoff.js";
export { CoreClient, type CoreClientOptions, MAX_RECEIVE_MESSAGE_BYTES } from "./client.js";
export {
  type ConsumeOptions,
  Delivery,
  GroupConsumer,
  MAX_REASON_BYTES,
  MAX_UNACKED,
  truncateReason,
} from "./consumer.js";
export {
  CURSOR_EXPIRED,
  CoreError,
  CursorExpiredError,
  ERROR_DOMAIN,
  OLDEST_SEQUENCE,
  cursorExpiredInfo,
  parseOldestSequence,
  type Reason,
} from "./errors.js";
export { type ErrorInfo, ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";
export { type ReconnectInfo, type SubscribeOptions, Subscription } from "./subscription.js";
export * from "./gen/commercegateway/v1/core_service_pb.js";
export * from "./gen/commercegateway/v1/events_pb.js";
