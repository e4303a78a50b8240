// The backends are built from one list of kernel names (lib/backend/types.ts): the native one
// takes exactly those from the raw addon and refuses a binary that lacks one, naming the key; the
// TypeScript one has every kernel and every async twin the list promises.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backend/index.js';
import { kernelsOf, packageRoot } from '../lib/backend/native.js';
import { ASYNC_KERNEL_NAMES, asyncName, KERNEL_NAMES } from '../lib/backend/types.js';

const keys = [...KERNEL_NAMES, ...ASYNC_KERNEL_NAMES.map(asyncName)];

describe('backend keys', () => {
  it('the raw addon exports every listed kernel and async twin, and the native backend takes them as they are', () => {
    const raw = createRequire(import.meta.url)('node-gyp-build')(packageRoot) as Record<string, unknown>;
    const kernels = kernelsOf(raw, 'hdglue.node') as unknown as Record<string, unknown>;
    expect(Object.keys(kernels).sort()).toEqual([...keys].sort());
    for (const k of keys) expect(kernels[k]).toBe(raw[k]);
  });

  it('a binary lacking a kernel is refused with an error naming it', () => {
    for (const missing of ['topKAsync', 'refineOnline']) {
      const raw = Object.fromEntries(keys.filter((k) => k !== missing).map((k) => [k, () => undefined]));
      expect(() => kernelsOf(raw, '/x/hdglue.node')).toThrow(`lacks the kernel ${missing}`);
    }
    const wrong = Object.fromEntries(keys.map((k) => [k, k === 'bind' ? 1 : () => undefined]));
    expect(() => kernelsOf(wrong, '/x/hdglue.node')).toThrow('/x/hdglue.node lacks the kernel bind');
  });

  it('the TypeScript backend has every listed kernel and async twin', () => {
    const js = jsBackend as unknown as Record<string, unknown>;
    for (const k of keys) expect(typeof js[k], k).toBe('function');
  });
});
