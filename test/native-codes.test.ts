// The addon's error codes come from native/addon/codes.h, which scripts/gen-codes.mjs generates
// from lib/errors.ts: the checked-in header must be what the script makes of the current
// errors.ts, the comparison is shown to catch a changed, added or unreadable code, and no addon
// source spells a code by hand.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../lib/errors.js';
// @ts-expect-error: a plain ES module script without types
import { CODES_H, codesHeader, ERRORS_TS, parseErrorCodes } from '../scripts/gen-codes.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const generate = codesHeader as (errorsText: string) => string;
const parse = parseErrorCodes as (errorsText: string) => { key: string; value: string }[];
const errorsText = readFileSync(join(root, ERRORS_TS as string), 'utf8');
const checkedIn = readFileSync(join(root, CODES_H as string), 'utf8');

describe('native/addon/codes.h', () => {
  it('is what scripts/gen-codes.mjs makes of lib/errors.ts (else run node scripts/gen-codes.mjs)', () => {
    expect(checkedIn).toBe(generate(errorsText));
  });

  it('the reader sees every code of ErrorCode, in order', () => {
    expect(parse(errorsText).map((e) => [e.key, e.value])).toEqual(Object.entries(ErrorCode));
  });

  it('the comparison fails on a changed, an added or a removed code', () => {
    const changed = errorsText.replace("SHAPE: 'ERR_HDGLUE_SHAPE'", "SHAPE: 'ERR_HDGLUE_SHAPES'");
    expect(changed).not.toBe(errorsText);
    expect(generate(changed)).not.toBe(checkedIn);
    expect(generate(changed)).toContain('kShape[] = "ERR_HDGLUE_SHAPES"');
    const added = errorsText.replace(
      "  BUSY: 'ERR_HDGLUE_BUSY',",
      "  BUSY: 'ERR_HDGLUE_BUSY',\n  NEW_ONE: 'ERR_HDGLUE_NEW_ONE',",
    );
    expect(generate(added)).not.toBe(checkedIn);
    expect(generate(added)).toContain('kNewOne[] = "ERR_HDGLUE_NEW_ONE"');
    const removed = errorsText.replace("  BUSY: 'ERR_HDGLUE_BUSY',\n", '');
    expect(removed).not.toBe(errorsText);
    expect(generate(removed)).not.toBe(checkedIn);
  });

  it('an entry the reader cannot parse is an error, not a silently dropped code', () => {
    const odd = errorsText.replace("SHAPE: 'ERR_HDGLUE_SHAPE',", 'SHAPE: `ERR_HDGLUE_SHAPE`,');
    expect(() => generate(odd)).toThrow(/not an ErrorCode entry/);
    expect(() => generate('export const Other = {};')).toThrow(/no 'export const ErrorCode/);
  });

  it('no addon source spells a code by hand', () => {
    const dir = join(root, 'native', 'addon');
    for (const f of readdirSync(dir)) {
      if (f === 'codes.h') continue;
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text.match(/"(ERR_)?HDGLUE_[A-Z0-9_]*"/g), f).toBeNull();
    }
  });
});
