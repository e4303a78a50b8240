/**
 * The WebAssembly backend's encoders (level and projection) and the binning function. The
 * embeddings stream through the module in row chunks; the codebooks go in once per call.
 * @internal
 */
import { ErrorCode, HdglueError, rangeError } from '../../errors.js';
import type { Kernels } from '../types.js';
import type { Typed, WasmCore } from './core.js';
import { chunkRows, need, part, place } from './marshal.js';

/** The index of the first NaN or infinite value among the first `count`, or -1. */
function firstNonFinite(x: Float32Array | Float64Array, count: number): number {
  for (let i = 0; i < count; i++) if (!Number.isFinite(x[i])) return i;
  return -1;
}

/** Builds the kernels of this file over one core instance. */
export function encodeKernels(core: WasmCore): Pick<Kernels, 'bin' | 'encodeLevels' | 'project'> {
  /**
   * Streams n rows of `features` values through `run(px, rows, po)`, which encodes `rows` rows at
   * px into po; `fixed` are the per-call tables, placed first. The whole batch is checked for a
   * non-finite value before any row is written, as every backend does (an error leaves `out`
   * untouched), so no chunk can fail halfway.
   */
  function stream(
    x: Float32Array | Float64Array,
    n: number,
    features: number,
    words: number,
    out: Uint32Array,
    fixed: readonly (readonly [Typed, number] | null)[],
    run: (addrs: number[], px: number, rows: number, po: number, pbad: number) => void,
  ): number {
    const bad = firstNonFinite(x, n * features);
    if (bad >= 0) return bad;
    const s = 2 * words;
    const rows = chunkRows(features * x.BYTES_PER_ELEMENT + s * 4, n);
    const sizes = fixed.map((f) => (f ? f[1] * f[0].BYTES_PER_ELEMENT : 0));
    const addrs = place(core, [...sizes, rows * features * x.BYTES_PER_ELEMENT, rows * s * 4, 8]);
    fixed.forEach((f, i) => {
      if (f) core.put(addrs[i] as number, f[0], f[1]);
    });
    const [px, po, pbad] = addrs.slice(fixed.length) as [number, number, number];
    for (let r0 = 0; r0 < n; r0 += rows) {
      const m = Math.min(rows, n - r0);
      core.put(px, part(x, r0 * features, m * features), m * features);
      run(addrs, px, m, po, pbad);
      core.get(po, out, m * s, r0 * s);
    }
    return -1;
  }

  return {
    bin(v, lo, hi, bins) {
      return core.call((x) => x.hdgw_bin(v, lo, hi, bins)) >>> 0;
    },

    encodeLevels(x, n, features, lo, hi, bins, levels, levelCount, positions, dim, tie, out) {
      const words = Math.ceil(dim / 64);
      const s = 2 * words;
      need(x, n * features, 'x');
      need(lo, features, 'lo');
      need(hi, features, 'hi');
      // As the addon checks them: a bin without its level row would read the arena's next block.
      if (features < 1) throw rangeError(ErrorCode.OUT_OF_RANGE, 'features must be at least 1');
      if (bins < 1) throw rangeError(ErrorCode.OUT_OF_RANGE, 'bins must be at least 1');
      if (levelCount < bins) throw rangeError(ErrorCode.SHAPE, 'the level codebook has fewer rows than bins');
      need(levels, levelCount * s, 'levels');
      need(positions, features * s, 'positions');
      need(out, n * s, 'out');
      if (tie) need(tie, s, 'tie');
      const f64 = x instanceof Float64Array;
      return stream(
        x,
        n,
        features,
        words,
        out,
        [[lo, features], [hi, features], [levels, levelCount * s], [positions, features * s], tie ? [tie, s] : null],
        (a, px, rows, po, pbad) => {
          const [plo, phi, pl, pp, pt] = a as [number, number, number, number, number];
          const args = [px, rows, features, plo, phi, bins, pl, pp, dim, tie ? pt : 0, po, pbad];
          const st = core.call((w) => (f64 ? w.hdgw_encode_f64(...args) : w.hdgw_encode_f32(...args)));
          if (st !== 0) throw new HdglueError(ErrorCode.OUT_OF_MEMORY, 'hdglue: out of memory while encoding');
        },
      );
    },

    project(x, n, features, mult, proj, dim, tie, out) {
      const words = Math.ceil(dim / 64);
      const s = 2 * words;
      need(x, n * features, 'x');
      need(mult, features, 'mult');
      need(proj, features * s, 'proj');
      need(out, n * s, 'out');
      if (tie) need(tie, s, 'tie');
      const f64 = x instanceof Float64Array;
      return stream(
        x,
        n,
        features,
        words,
        out,
        [[mult, features], [proj, features * s], tie ? [tie, s] : null],
        (a, px, rows, po, pbad) => {
          const [pm, pj, pt] = a as [number, number, number];
          const args = [px, rows, features, pm, pj, dim, tie ? pt : 0, po, pbad];
          const st = core.call((w) => (f64 ? w.hdgw_project_f64(...args) : w.hdgw_project_f32(...args)));
          if (st !== 0) throw new HdglueError(ErrorCode.OUT_OF_MEMORY, 'hdglue: out of memory while encoding');
        },
      );
    },
  };
}
