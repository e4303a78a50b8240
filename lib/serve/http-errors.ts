/**
 * Every failure of a request as an HTTP answer `{"error": {"code": "ERR_HDGLUE_...", "message": "..."}}`:
 * the request's own mistakes are 400 (413 over the body limit, 404/405/415 for a wrong route or
 * content type), a full queue or a server that is shutting down 503 with `Retry-After`, and
 * anything else 500 `ERR_HDGLUE_INTERNAL` (or the library's code), logged, the server serving on.
 */
import { ErrorCode } from '../errors.js';

/** An error as the server answers it. */
export interface HttpError {
  status: number;
  code: string;
  message: string;
  /** Seconds, for the `Retry-After` header of a 503. */
  retryAfter?: number;
  /** Whether it is the server's fault (logged with its stack). */
  internal: boolean;
}

/** Status of a client that went away before its answer (nginx's convention; only the metrics see it). */
export const CLIENT_GONE = 499;

// Codes a checked request can still raise from the library (an ONNX member's raw values, a
// limit): all mean the request is wrong, not the server.
const REQUEST_CODES = new Set<string>([
  ErrorCode.BAD_REQUEST,
  ErrorCode.INVALID_TYPE,
  ErrorCode.SHAPE,
  ErrorCode.OUT_OF_RANGE,
  ErrorCode.NOT_FINITE,
  ErrorCode.UNKNOWN_MEMBER,
  ErrorCode.NO_INPUT,
  ErrorCode.LIMIT,
  ErrorCode.NPY_FORMAT,
]);

/** The answer for `e`, thrown while handling a request; `bodyLimit` is for the 413's message. */
export function httpError(e: unknown, bodyLimit: number): HttpError {
  const err = (e ?? {}) as { code?: unknown; statusCode?: unknown; message?: unknown };
  const code = typeof err.code === 'string' ? err.code : '';
  const message = firstLine(err.message);
  if (code === ErrorCode.QUEUE_FULL || code === ErrorCode.CLOSED) {
    return { status: 503, code, message, retryAfter: 1, internal: false };
  }
  if (code === ErrorCode.ABORTED) return { status: CLIENT_GONE, code, message, internal: false };
  if (REQUEST_CODES.has(code)) return { status: 400, code, message, internal: false };
  // Fastify's own refusals (body parsing, content type, sizes) carry a 4xx statusCode.
  const status = typeof err.statusCode === 'number' ? err.statusCode : 0;
  if (status === 413) {
    return {
      status,
      code: ErrorCode.LIMIT,
      message: `the body is larger than the limit of ${bodyLimit} bytes: split the request (or raise --body-limit)`,
      internal: false,
    };
  }
  if (status >= 400 && status < 500) {
    return { status, code: ErrorCode.BAD_REQUEST, message: fastifyMessage(code, message), internal: false };
  }
  return {
    status: 500,
    code: code.startsWith('ERR_HDGLUE_') ? code : ErrorCode.INTERNAL,
    message: message || 'internal error',
    internal: true,
  };
}

/** The JSON body of an error answer. */
export function errorBody(h: HttpError): { error: { code: string; message: string } } {
  return { error: { code: h.code, message: h.message } };
}

function fastifyMessage(code: string, message: string): string {
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return `${message}; POST /v1/predict takes application/json, application/octet-stream (float32 rows) or application/x-npy`;
  }
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'the body is empty; send {"inputs": {...}}';
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === '') return `the body is not valid JSON: ${message}`;
  return message;
}

function firstLine(m: unknown): string {
  return typeof m === 'string' ? (m.split('\n')[0] as string) : '';
}
