// The one error type callers of the core see, and its translation from Connect errors.
import { Code, ConnectError } from "@connectrpc/connect";
import { type ErrorInfo, ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";

/** The `ErrorInfo.domain` of the details the core sends. */
export const ERROR_DOMAIN = "commercegateway.v1";
/** The `ErrorInfo.reason` of OUT_OF_RANGE: the cursor is older than the retained log. */
export const CURSOR_EXPIRED = "CURSOR_EXPIRED";
/** The CURSOR_EXPIRED metadata key holding the oldest available sequence, in decimal. */
export const OLDEST_SEQUENCE = "oldest_sequence";

/** Why a call failed: the gRPC status code's name in snake case ("unavailable", ...). */
export type Reason = string;

function reasonOf(code: Code): Reason {
  return (Code[code] ?? "Unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** A call to the core failed; `code` is the gRPC status, `reason` its name in snake case. */
export class CoreError extends Error {
  readonly code: Code;
  readonly reason: Reason;
  readonly details: string;

  constructor(code: Code, details: string) {
    super(details ? `${reasonOf(code)}: ${details}` : reasonOf(code));
    this.name = "CoreError";
    this.code = code;
    this.reason = reasonOf(code);
    this.details = details;
  }
}

/**
 * A subscription cursor is older than the core's retained log (OUT_OF_RANGE). Resynchronise
 * from listInventoryLevels (its `sequence` is a fresh cursor) and subscribe again.
 */
export class CursorExpiredError extends CoreError {
  readonly oldestSequence: bigint | undefined;
  /** The core's CURSOR_EXPIRED ErrorInfo detail (undefined from a core that sends none). */
  readonly errorInfo: ErrorInfo | undefined;

  constructor(details: string, oldestSequence: bigint | undefined, errorInfo?: ErrorInfo) {
    super(Code.OutOfRange, details);
    this.name = "CursorExpiredError";
    this.oldestSequence = oldestSequence;
    this.errorInfo = errorInfo;
    this.message =
      `subscription cursor expired (oldest available sequence: ${oldestSequence ?? "unknown"}); ` +
      `resync from ListInventoryLevels and subscribe after its sequence: ${details}`;
  }
}

/**
 * Returns the oldest available sequence named in an OUT_OF_RANGE message, if any: the fallback
 * for cores that send no ErrorInfo detail.
 */
export function parseOldestSequence(details: string): bigint | undefined {
  const named = /oldest\D*?(\d+)/i.exec(details);
  if (named?.[1] !== undefined) {
    return BigInt(named[1]);
  }
  const numbers = details.match(/\d+/g);
  const last = numbers?.[numbers.length - 1];
  return last === undefined ? undefined : BigInt(last);
}

/** Translates any error thrown by a call into a CoreError (CursorExpiredError for OUT_OF_RANGE). */
export function toCoreError(error: unknown): CoreError {
  if (error instanceof CoreError) {
    return error;
  }
  const connect = ConnectError.from(error);
  if (connect.code === Code.OutOfRange) {
    const info = cursorExpiredInfo(connect);
    const oldest = info === undefined ? undefined : decimal(info.metadata[OLDEST_SEQUENCE]);
    return new CursorExpiredError(
      connect.rawMessage,
      oldest ?? parseOldestSequence(connect.rawMessage),
      info,
    );
  }
  return new CoreError(connect.code, connect.rawMessage);
}

/**
 * The CURSOR_EXPIRED ErrorInfo of an error: Connect decodes the `grpc-status-details-bin`
 * trailer (a google.rpc.Status) into `details`, and findDetails decodes the ErrorInfo ones.
 */
export function cursorExpiredInfo(error: ConnectError): ErrorInfo | undefined {
  return error
    .findDetails(ErrorInfoSchema)
    .find((info) => info.domain === ERROR_DOMAIN && info.reason === CURSOR_EXPIRED);
}

function decimal(value: string | undefined): bigint | undefined {
  return value !== undefined && /^\d+$/.test(value) ? BigInt(value) : undefined;
}
