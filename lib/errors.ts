/**
 * Errors with stable codes. Wrong types raise `TypeError`, bad lengths or ranges `RangeError`,
 * and everything else an {@link HdglueError}; all three carry a `code` from {@link ErrorCode}
 * so callers can branch on it without parsing messages. Both backends raise the same errors
 * with the same messages, because lib/core/ops.ts validates before either is called.
 */

/** Every error code hdglue raises, and the warning code of the backend fallback. */
export const ErrorCode = {
  /** An argument has the wrong type (TypeError). */
  INVALID_TYPE: 'ERR_HDGLUE_INVALID_TYPE',
  /** A dimension is not an integer in [1, 2^24] (RangeError). */
  INVALID_DIM: 'ERR_HDGLUE_INVALID_DIM',
  /** An array's length does not fit the stated shape (RangeError). */
  SHAPE: 'ERR_HDGLUE_SHAPE',
  /** A number is out of its allowed range or not an integer (RangeError). */
  OUT_OF_RANGE: 'ERR_HDGLUE_OUT_OF_RANGE',
  /** Bits at or above the dimension are set in packed data (RangeError). */
  PADDING: 'ERR_HDGLUE_PADDING',
  /** Two operands have different dimensions (HdglueError). */
  DIM_MISMATCH: 'ERR_HDGLUE_DIM_MISMATCH',
  /** An object is in use by an async call that has not settled yet (HdglueError). */
  BUSY: 'ERR_HDGLUE_BUSY',
  /** An array given to an async call was detached, transferred or resized before it settled (Error). */
  DETACHED: 'ERR_HDGLUE_DETACHED',
  /** An embedding value is NaN or infinite (RangeError); the message names the row and feature. */
  NOT_FINITE: 'ERR_HDGLUE_NOT_FINITE',
  /** A codebook has no vector of that name (HdglueError). */
  UNKNOWN_NAME: 'ERR_HDGLUE_UNKNOWN_NAME',
  /** A serialized description is malformed or of another kind or version (HdglueError). */
  BAD_DESCRIPTION: 'ERR_HDGLUE_BAD_DESCRIPTION',
  /** A model file is truncated, corrupted or not an hdglue model file (HdglueError). */
  MODEL_FILE: 'ERR_HDGLUE_MODEL_FILE',
  /** A model file has a format version this hdglue cannot read (HdglueError). */
  MODEL_VERSION: 'ERR_HDGLUE_MODEL_VERSION',
  /** A label is not one of the model's classes (HdglueError). */
  UNKNOWN_LABEL: 'ERR_HDGLUE_UNKNOWN_LABEL',
  /** A name is not a member of the glue (HdglueError). */
  UNKNOWN_MEMBER: 'ERR_HDGLUE_UNKNOWN_MEMBER',
  /** A prediction was asked for with no member's input present (HdglueError). */
  NO_INPUT: 'ERR_HDGLUE_NO_INPUT',
  /** A documented maximum (`LIMITS`: classes, members, rows per call) would be exceeded (RangeError). */
  LIMIT: 'ERR_HDGLUE_LIMIT',
  /** The native side could not allocate working memory (Error). */
  OUT_OF_MEMORY: 'ERR_HDGLUE_OUT_OF_MEMORY',
  /** HDGLUE_BACKEND=native was asked for and no binary loads (HdglueError). */
  NATIVE_UNAVAILABLE: 'ERR_HDGLUE_NATIVE_UNAVAILABLE',
  /** HDGLUE_BACKEND=wasm was asked for and no WebAssembly module loads (HdglueError). */
  WASM_UNAVAILABLE: 'ERR_HDGLUE_WASM_UNAVAILABLE',
  /** An environment variable hdglue reads has an unknown value (HdglueError). */
  INVALID_ENV: 'ERR_HDGLUE_INVALID_ENV',
  /** A `.npy` file is malformed, truncated, or of a dtype, order or rank hdglue does not read (HdglueError). */
  NPY_FORMAT: 'ERR_HDGLUE_NPY',
  /** An optional package an ONNX feature needs (onnxruntime-node to run members, protobufjs to write ONNX files) is not installed or does not load (HdglueError); the message says how to install it. */
  ONNX_RUNTIME_MISSING: 'ERR_HDGLUE_ONNX_RUNTIME_MISSING',
  /** An ONNX member's file is missing, corrupt, or lacks the named input or output (HdglueError); the message names the member and the file. */
  ONNX_MODEL: 'ERR_HDGLUE_ONNX_MODEL',
  /** onnxruntime failed while running a member's network (HdglueError); the message names the member and the file. */
  ONNX_RUN: 'ERR_HDGLUE_ONNX_RUN',
  /** An ONNX file a model file records is missing, or its bytes no longer have the recorded SHA-256 (HdglueError); the message names the file. */
  ONNX_CHANGED: 'ERR_HDGLUE_ONNX_CHANGED',
  /** A micro-batcher's queue has no room for a request's rows (its `maxQueue`): the request is refused, not queued (HdglueError); retry later or shed load. */
  QUEUE_FULL: 'ERR_HDGLUE_QUEUE_FULL',
  /** A request's AbortSignal fired before its result was delivered (HdglueError named AbortError; `cause` is the signal's reason). */
  ABORTED: 'ERR_HDGLUE_ABORTED',
  /** A request was submitted to a micro-batcher after `close()` (HdglueError). */
  CLOSED: 'ERR_HDGLUE_CLOSED',
  /** An HTTP request to `hdglue serve` is malformed: not JSON, not the documented shape, an unknown route or content type (HdglueError). */
  BAD_REQUEST: 'ERR_HDGLUE_BAD_REQUEST',
  /** `hdglue serve` failed on a request for a reason that is not the request's (a bug; the server logs it and keeps serving). */
  INTERNAL: 'ERR_HDGLUE_INTERNAL',
  /** Warning code: neither a native binary nor the WebAssembly module loaded, the TypeScript backend is in use. */
  FALLBACK: 'HDGLUE_FALLBACK_TO_JS',
  /** Warning code: no native binary loaded, the WebAssembly backend is in use. */
  FALLBACK_WASM: 'HDGLUE_FALLBACK_TO_WASM',
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error of hdglue's own, with a stable `code`. */
export class HdglueError extends Error {
  /** Stable identifier of the failure, e.g. `ERR_HDGLUE_DIM_MISMATCH`. */
  readonly code: ErrorCode;

  /**
   * @param code - stable identifier
   * @param message - what went wrong and, where known, how to fix it
   * @param options - `cause`: the underlying error, kept for diagnosis
   */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HdglueError';
    this.code = code;
  }
}

/** A `TypeError` carrying {@link ErrorCode.INVALID_TYPE}. @internal */
export function typeError(message: string): TypeError & { code: ErrorCode } {
  return Object.assign(new TypeError(message), { code: ErrorCode.INVALID_TYPE });
}

/** A `RangeError` carrying a range-kind code. @internal */
export function rangeError(code: ErrorCode, message: string): RangeError & { code: ErrorCode } {
  return Object.assign(new RangeError(message), { code });
}
