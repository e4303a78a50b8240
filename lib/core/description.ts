/**
 * The common checks of every `fromJSON` (encoders, codebooks): JSON text or object, expected
 * kind, format version, decimal-string seed.
 * @internal
 */
import { ErrorCode, HdglueError } from '../errors.js';
import { SEED_STRING } from '../validate.js';

/** A malformed description. @internal */
export function badDescription(what: string): HdglueError {
  return new HdglueError(ErrorCode.BAD_DESCRIPTION, `invalid description: ${what}`);
}

/**
 * The common part of every `fromJSON`: parse JSON text if given, then require an object of the
 * expected `kind`, format version 1, and a decimal-string seed. @internal
 */
export function parseDescription<T extends { kind: string; seed: string }>(
  description: T | string,
  kind: T['kind'],
): Partial<T> & { seed: string } {
  let d: unknown = description;
  if (typeof d === 'string') {
    try {
      d = JSON.parse(d);
    } catch (e) {
      throw badDescription(`not JSON (${(e as Error).message})`);
    }
  }
  if (d === null || typeof d !== 'object') throw badDescription('not an object');
  const o = d as Partial<T> & { version?: unknown };
  if (o.kind !== kind) throw badDescription(`kind is ${String(o.kind)}, not ${kind}`);
  if (o.version !== 1) throw badDescription(`version ${String(o.version)} is not supported (expected 1)`);
  if (typeof o.seed !== 'string' || !SEED_STRING.test(o.seed))
    throw badDescription('seed must be a decimal string of at most 20 digits');
  return o as Partial<T> & { seed: string };
}
