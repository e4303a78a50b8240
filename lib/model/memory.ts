/**
 * The memory of an HIL's nearest readout: every learnt example, stored as packed bits with its
 * class index, and the 1-NN scoring against it (each class scores the Hamming similarity of its
 * nearest stored example). It costs D/8 bytes per example and one Hamming scan of the whole
 * memory per query.
 *
 * @internal
 */
import { HVBatch } from '../core/hv.js';
import { hammingMatrix } from '../core/ops.js';
import { ErrorCode, rangeError } from '../errors.js';
import type { Label } from '../label.js';
import { wordsOf } from '../validate.js';

/** Stored examples of `dim` bits and their class indices (row order is the order learnt). */
export class Memory {
  readonly #dim: number;
  readonly #stride: number;
  #rows: Uint32Array;
  #classes: Int32Array;
  #stored: number;

  /**
   * @param dim - bits per example
   * @param rows - stored examples to take over (no copy), packed, `classes.length` rows
   * @param classes - their class indices
   */
  constructor(dim: number, rows = new Uint32Array(0), classes = new Int32Array(0)) {
    this.#dim = dim;
    this.#stride = 2 * wordsOf(dim);
    this.#rows = rows;
    this.#classes = classes;
    this.#stored = classes.length;
  }

  /** Examples stored. */
  get stored(): number {
    return this.#stored;
  }

  /** The stored examples, packed (a view, `stored` rows). */
  get rows(): Uint32Array {
    return this.#rows.subarray(0, this.#stored * this.#stride);
  }

  /** Class index of each stored example (a view). */
  get classes(): Int32Array {
    return this.#classes.subarray(0, this.#stored);
  }

  /** Forget every example (the storage is kept for the next ones). */
  clear(): void {
    this.#stored = 0;
  }

  /** Appends examples of the given class indices (capacity doubles, so n appends cost O(n)). */
  remember(hvs: HVBatch, classes: Int32Array): void {
    const stride = this.#stride;
    const need = this.#stored + hvs.count;
    if (need * stride > this.#rows.length) {
      const cap = Math.max(need, 2 * this.#classes.length, 16);
      const grown = new Uint32Array(cap * stride);
      grown.set(this.#rows.subarray(0, this.#stored * stride));
      const cls = new Int32Array(cap);
      cls.set(this.#classes.subarray(0, this.#stored));
      this.#rows = grown;
      this.#classes = cls;
    }
    this.#rows.set(hvs.data.subarray(0, hvs.count * stride), this.#stored * stride);
    this.#classes.set(classes.subarray(0, hvs.count), this.#stored);
    this.#stored = need;
  }

  /**
   * The stored rows equal to each example (one distinct row per example, of the example's class
   * index in `classes`), or an error naming the first example (by its label in `labels`) that is
   * not in memory; changes nothing.
   */
  find(hvs: HVBatch, labels: ArrayLike<Label>, classes: Int32Array): Set<number> {
    const stride = this.#stride;
    const taken = new Set<number>();
    for (let i = 0; i < hvs.count; i++) {
      const k = classes[i] as number;
      const row = hvs.data.subarray(i * stride, (i + 1) * stride);
      let found = -1;
      for (let r = 0; r < this.#stored && found < 0; r++) {
        if (this.#classes[r] !== k || taken.has(r)) continue;
        const at = r * stride;
        let same = true;
        for (let w = 0; w < stride && same; w++) same = this.#rows[at + w] === row[w];
        if (same) found = r;
      }
      if (found < 0) {
        throw rangeError(
          ErrorCode.OUT_OF_RANGE,
          `example ${i} (class ${JSON.stringify(labels[i])}) is not in the layer's memory: only learnt examples can be forgotten`,
        );
      }
      taken.add(found);
    }
    return taken;
  }

  /** Removes the given stored rows (from {@link find}). */
  drop(rows: Set<number>): void {
    const keep: number[] = [];
    for (let r = 0; r < this.#stored; r++) if (!rows.has(r)) keep.push(r);
    this.#keep(keep);
  }

  /** Removes class k's examples and renumbers the classes after it, as the layer does. */
  dropClass(k: number): void {
    if (this.#stored === 0) return;
    const keep: number[] = [];
    for (let r = 0; r < this.#stored; r++) if (this.#classes[r] !== k) keep.push(r);
    this.#keep(keep);
    for (let r = 0; r < this.#stored; r++) if ((this.#classes[r] as number) > k) this.#classes[r]--;
  }

  /**
   * Each class's score is the Hamming similarity of its nearest stored example (0 for a class
   * with none), from one Hamming-matrix scan per chunk of queries: `hvs.count * classes` values.
   */
  scores(hvs: HVBatch, classes: number): Float64Array {
    const c = classes;
    const dim = this.#dim;
    const out = new Float64Array(hvs.count * c);
    const n = this.#stored;
    if (n === 0) return out;
    const memory = new HVBatch(dim, n, this.rows);
    const chunk = Math.max(1, Math.floor((1 << 22) / n));
    const best = new Int32Array(c);
    for (let q0 = 0; q0 < hvs.count; q0 += chunk) {
      const q1 = Math.min(hvs.count, q0 + chunk);
      const d = hammingMatrix(hvs.slice(q0, q1), memory);
      for (let q = q0; q < q1; q++) {
        const at = (q - q0) * n;
        best.fill(dim + 1);
        for (let r = 0; r < n; r++) {
          const k = this.#classes[r] as number;
          const v = d[at + r] as number;
          if (v < (best[k] as number)) best[k] = v;
        }
        for (let k = 0; k < c; k++) {
          const b = best[k] as number;
          out[q * c + k] = b > dim ? 0 : 1 - b / dim;
        }
      }
    }
    return out;
  }

  // Keeps the given stored rows (ascending), in order.
  #keep(keep: number[]): void {
    const stride = this.#stride;
    keep.forEach((r, i) => {
      if (r !== i) {
        this.#rows.copyWithin(i * stride, r * stride, (r + 1) * stride);
        this.#classes[i] = this.#classes[r] as number;
      }
    });
    this.#rows.fill(0, keep.length * stride, this.#stored * stride);
    this.#stored = keep.length;
  }
}
