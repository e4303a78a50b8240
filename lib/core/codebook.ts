/**
 * Item memory: named random hypervectors, each a pure function of (seed, name), so the order in
 * which names are added never changes a vector; and cleanup, the nearest names to a noisy
 * hypervector, on the native top-k Hamming kernel.
 */

import { ErrorCode, HdglueError, typeError } from '../errors.js';
import { checkCount, checkDim, checkOptions, checkSeed, describe, wordsOf } from '../validate.js';
import { badDescription, parseDescription } from './description.js';
import { HVBatch, Hypervector } from './hv.js';
import { randomHV, type SeedOptions, topK, topKAsync } from './ops.js';

/** Nearest names to one query, most similar first (similarity = 1 - hamming / dim). */
export interface Nearest {
  names: string[];
  similarities: number[];
}

/** The JSON form of a {@link Codebook}: its vectors are regenerated from (seed, name). */
export interface CodebookDescription {
  kind: 'hdglue.Codebook';
  version: 1;
  dim: number;
  seed: string;
  names: string[];
}

/** Named hypervectors with nearest-name lookup. */
export class Codebook {
  /** Bits per vector. */
  readonly dim: number;
  /** Seed of every vector. */
  readonly seed: bigint;
  #names: string[] = [];
  #index = new Map<string, number>();
  #data: Uint32Array;

  /**
   * @param dim - bits per vector
   * @param options - `seed` of the vectors (default 0)
   */
  constructor(dim: number, options?: SeedOptions) {
    this.dim = checkDim(dim);
    this.seed = checkSeed(checkOptions(options).seed ?? 0);
    this.#data = new Uint32Array(16 * this.#stride);
  }

  get #stride(): number {
    return 2 * wordsOf(this.dim);
  }

  /** Number of names. */
  get size(): number {
    return this.#names.length;
  }

  /** The names, in insertion order (a copy). */
  names(): string[] {
    return this.#names.slice();
  }

  /** Whether `name` has a vector here. */
  has(name: string): boolean {
    return this.#index.has(name);
  }

  /** Add a name (adding an existing one is a no-op) and return its vector (a copy). */
  add(name: string): Hypervector {
    if (typeof name !== 'string') throw typeError(`name must be a string, got ${describe(name)}`);
    let i = this.#index.get(name);
    if (i === undefined) {
      const hv = randomHV(this.dim, name, { seed: this.seed });
      i = this.#names.length;
      if ((i + 1) * this.#stride > this.#data.length) {
        const grown = new Uint32Array(this.#data.length * 2);
        grown.set(this.#data);
        this.#data = grown;
      }
      this.#data.set(hv.data, i * this.#stride);
      this.#names.push(name);
      this.#index.set(name, i);
    }
    return this.#row(i);
  }

  /** Add several names; returns their vectors in the order given (a new batch). */
  addMany(names: readonly string[]): HVBatch {
    if (!Array.isArray(names)) throw typeError(`names must be an array of strings, got ${describe(names)}`);
    for (let i = 0; i < names.length; i++) {
      if (typeof names[i] !== 'string') throw typeError(`names[${i}] must be a string, got ${describe(names[i])}`);
    }
    const out = new HVBatch(this.dim, names.length);
    names.forEach((n, i) => {
      out.data.set(this.add(n).data, i * this.#stride);
    });
    return out;
  }

  /** The vector of `name` (a copy); an unknown name is an `ERR_HDGLUE_UNKNOWN_NAME` error. */
  get(name: string): Hypervector {
    if (typeof name !== 'string') throw typeError(`name must be a string, got ${describe(name)}`);
    const i = this.#index.get(name);
    if (i === undefined) {
      throw new HdglueError(ErrorCode.UNKNOWN_NAME, `the codebook has no vector named ${JSON.stringify(name)}`);
    }
    return this.#row(i);
  }

  /** All vectors in insertion order (a copy). */
  vectors(): HVBatch {
    return new HVBatch(this.dim, this.size, this.#data.slice(0, this.size * this.#stride));
  }

  /** The `k` names nearest to a query, or to each row of a batch (then one result per row). */
  nearest(query: Hypervector, k?: number): Nearest;
  nearest(query: HVBatch, k?: number): Nearest[];
  nearest(query: Hypervector | HVBatch, k = 1): Nearest | Nearest[] {
    const r = topK(query, this.#memory(k), k);
    return this.#results(query, r.indices, r.distances, k);
  }

  /** {@link nearest} off the event loop (on the native backend). */
  async nearestAsync(query: Hypervector | HVBatch, k = 1): Promise<Nearest | Nearest[]> {
    const r = await topKAsync(query, this.#memory(k), k);
    return this.#results(query, r.indices, r.distances, k);
  }

  /** Names and seed as JSON; {@link Codebook.fromJSON} regenerates the same vectors. */
  toJSON(): CodebookDescription {
    return { kind: 'hdglue.Codebook', version: 1, dim: this.dim, seed: this.seed.toString(), names: this.names() };
  }

  /** Rebuild from {@link Codebook.toJSON}'s output (an object or its JSON text). */
  static fromJSON(description: CodebookDescription | string): Codebook {
    const o = parseDescription(description, 'hdglue.Codebook');
    if (!Array.isArray(o.names)) throw badDescription('names must be an array');
    if (new Set(o.names).size !== o.names.length) throw badDescription('names repeat');
    try {
      const cb = new Codebook(o.dim as number, { seed: BigInt(o.seed) });
      cb.addMany(o.names);
      return cb;
    } catch (e) {
      throw badDescription((e as Error).message);
    }
  }

  #row(i: number): Hypervector {
    return new Hypervector(this.dim, this.#data.slice(i * this.#stride, (i + 1) * this.#stride));
  }

  // A view of the filled rows: valid until the next add, which the synchronous callers never
  // interleave; the async path pins it like any other input.
  #memory(k: number): HVBatch {
    checkCount(k, 'k', this.size);
    return new HVBatch(this.dim, this.size, this.#data.subarray(0, this.size * this.#stride));
  }

  #results(query: Hypervector | HVBatch, idx: Uint32Array, dist: Uint32Array, k: number): Nearest | Nearest[] {
    const one = (q: number): Nearest => ({
      names: Array.from(idx.subarray(q * k, (q + 1) * k), (i) => this.#names[i] as string),
      similarities: Array.from(dist.subarray(q * k, (q + 1) * k), (d) => 1 - d / this.dim),
    });
    if (query instanceof Hypervector) return one(0);
    return Array.from({ length: query.count }, (_, q) => one(q));
  }
}
