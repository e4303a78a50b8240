/**
 * The errors of an async kernel call whose arrays change under it, worded word for word as the
 * addon words them (native/addon/worker.h), so behaviour does not depend on the backend.
 * @internal
 */
import { ErrorCode } from '../errors.js';

/** The error of an array detached, transferred or resized under an async call (as the addon words it). @internal */
export function detachedError(): Error & { code: ErrorCode } {
  return Object.assign(
    new Error(
      'an array passed to an async hdglue call was detached, transferred or resized before the call finished; its results are discarded',
    ),
    { code: ErrorCode.DETACHED },
  );
}

/** Word for word the addon's kResizableMessage (native/addon/worker.h). @internal */
export const RESIZABLE_MESSAGE =
  'an array passed to an async hdglue call is a view of a resizable ArrayBuffer, which could shrink under the running call; pass a copy (for example .slice())';
