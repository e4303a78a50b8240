// One name per concept (member, consensus): the names used before the rename are refused with
// the new name, never silently ignored (from JavaScript an ignored { strategy: 'concat' } would
// quietly build a vote glue), and they are gone from the public API.
import { describe, expect, it } from 'vitest';
import * as api from '../lib/index.js';
import { EmbeddingEncoder, ErrorCode, HDGlue, HIL, tutorialGlue } from '../lib/index.js';
import { expectCode } from './helpers.js';

// Refused with ERR_HDGLUE_INVALID_TYPE, the message naming the option's new name.
function refused(fn: () => unknown, now: string): void {
  expectCode(fn, ErrorCode.INVALID_TYPE);
  expect(fn).toThrow(new RegExp(`is now called '${now}'`));
}

describe('renamed names', () => {
  it('HDGlue refuses strategy (constructor and every predict path) and names consensus', async () => {
    refused(() => new HDGlue({ strategy: 'concat' } as never), 'consensus');
    const enc = new EmbeddingEncoder({ features: 2, dim: 64, bins: 4 });
    const g = new HDGlue().addMember('a', { encoder: enc, hil: new HIL({ dim: 64 }) });
    g.fit(
      {
        a: [
          [0.1, 0.2],
          [0.9, -0.3],
        ],
      },
      [0, 1],
    );
    const x = { a: [[0.1, 0.2]] };
    expect(g.predict(x)).toHaveLength(1);
    refused(() => g.predict(x, { strategy: 'vote' } as never), 'consensus');
    refused(() => g.accuracy(x, [0], { strategy: 'vote' } as never), 'consensus');
    await expect(g.predictAsync(x, { strategy: 'vote' } as never)).rejects.toMatchObject({
      code: ErrorCode.INVALID_TYPE,
    });
    await expect(g.predictEachAsync(x, { strategy: 'vote' } as never)).rejects.toMatchObject({
      code: ErrorCode.INVALID_TYPE,
    });
  });

  it('tutorialGlue refuses networkSeed and names memberSeed', () => {
    const m = [{ name: 'a', x: new Float64Array([0.1, 0.2, 0.9, -0.3]), features: 2 }];
    expect(tutorialGlue(m, [0, 1], { dim: 64, memberSeed: 3 }).seed).toBe(3n);
    refused(() => tutorialGlue(m, [0, 1], { dim: 64, networkSeed: 3 } as never), 'memberSeed');
  });

  it('the old names are not in the API', () => {
    const proto = Object.getOwnPropertyNames(HDGlue.prototype);
    expect(proto).toEqual(expect.arrayContaining(['addMember', 'removeMember', 'members']));
    expect(proto.filter((p) => /network|strategy/i.test(p))).toEqual([]);
    expect(Object.keys(api).filter((k) => /network|strategy/i.test(k))).toEqual([]);
    expect(Object.entries(ErrorCode).filter(([k, v]) => /NETWORK/.test(k) || /NETWORK/.test(v))).toEqual([]);
    expect(ErrorCode.UNKNOWN_MEMBER).toBe('ERR_HDGLUE_UNKNOWN_MEMBER');
  });
});
