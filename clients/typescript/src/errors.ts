// The one error type callers of the core see, and its translation from Connect errors.
import { Code, ConnectError } from "@connectrpc/connect";

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

  constructor(details: string, oldestSequence: bigint | undefined) {
    super(Code.OutOfRange, details);
    this.name = "CursorExpiredError";
    this.oldestSequence = oldestSequence;
    this.message =
      `subscription cursor expired (oldest available sequence: ${oldestSequence ?? "unknown"}); ` +
      `resync from ListInventoryLevels and subscribe after its sequence: ${details}`;
  }
}

/** Returns the oldest available sequence named in an OUT_OF_RANGE message, if any. */
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
    return new CursorExpiredError(connect.rawMessage, parseOldestSequence(connect.rawMessage));
  }
  return new CoreError(connect.code, connect.rawMessage);
}
