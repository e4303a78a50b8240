/**
 * Counter-based generator, bit for bit the one in native/core/rng.cc (docs/ARCHITECTURE.md, invariant 2):
 * every word of a random hypervector is a pure function of (seed, name, word index), so the
 * JavaScript and native backends agree and vectors never depend on creation order.
 *
 * @internal Not exported from the package.
 */

const MASK64 = (1n << 64n) - 1n;
const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const GOLDEN = 0x9e3779b97f4a7c15n;

/**
 * SplitMix64 finalizer, the bijective mixer every generator output passes through.
 *
 * @param z - Any bigint; only its low 64 bits matter.
 * @returns The mixed value as an unsigned 64-bit bigint.
 */
export function mix64(z: bigint): bigint {
  z = BigInt.asUintN(64, z);
  z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
  z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
  return z ^ (z >> 31n);
}

/**
 * Stable 64-bit hash of a byte string: FNV-1a 64, then {@link mix64}, because FNV-1a alone
 * mixes the last bytes poorly.
 *
 * @param bytes - The name, normally its UTF-8 encoding.
 * @returns The hash as an unsigned 64-bit bigint.
 */
export function hashName(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) {
    h = ((h ^ BigInt(bytes[i]!)) * FNV_PRIME) & MASK64;
  }
  return mix64(h);
}

// 32-bit-halves arithmetic for the per-word loop: a BigInt mix64 allocates several bigints per
// call (about 21 us per D = 10,000 vector on Node 20, against about 7 us this way). Results
// land in resHi/resLo because returning a pair would allocate just the same.
let resHi = 0;
let resLo = 0;

/** High 32 bits of the 64-bit product of two uint32 values (16-bit limbs keep doubles exact). */
function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** (hi:lo) * (chi:clo) mod 2^64 into resHi/resLo. */
function mul64(hi: number, lo: number, chi: number, clo: number): void {
  resHi = (mulHi32(lo, clo) + Math.imul(lo, chi) + Math.imul(hi, clo)) >>> 0;
  resLo = Math.imul(lo, clo) >>> 0;
}

/** mix64 on (hi:lo) into resHi/resLo; same steps as the BigInt version. */
function mix64Split(hi: number, lo: number): void {
  // z ^= z >> 30
  lo = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0;
  hi = (hi ^ (hi >>> 30)) >>> 0;
  mul64(hi, lo, 0xbf58476d, 0x1ce4e5b9);
  hi = resHi;
  lo = resLo;
  // z ^= z >> 27
  lo = (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0;
  hi = (hi ^ (hi >>> 27)) >>> 0;
  mul64(hi, lo, 0x94d049bb, 0x133111eb);
  hi = resHi;
  lo = resLo;
  // z ^= z >> 31
  resLo = (lo ^ ((lo >>> 31) | (hi << 1))) >>> 0;
  resHi = (hi ^ (hi >>> 31)) >>> 0;
}

/**
 * {@link mix64} computed with 32-bit arithmetic; exported so tests can pin it to the BigInt one.
 *
 * @internal
 * @param z - Any bigint; only its low 64 bits matter.
 * @returns The same value as `mix64(z)`.
 */
export function mix64Fast(z: bigint): bigint {
  z = BigInt.asUintN(64, z);
  mix64Split(Number(z >> 32n), Number(z & 0xffffffffn));
  return (BigInt(resHi) << 32n) | BigInt(resLo);
}

/**
 * Random hypervector as a pure function of (seed, name): 64-bit word j is
 * `mix64(key + (j + 1) * golden)` with `key = mix64(seed ^ hashName(name))`, the last word
 * masked to `dim` bits.
 *
 * @param seed - Generator seed; only its low 64 bits matter.
 * @param name - Name bytes, normally UTF-8.
 * @param dim - Dimension in bits.
 * @param out - Receives 2 * ceil(dim / 64) entries, the low half of each 64-bit word first.
 */
export function randomHVInto(seed: bigint, name: Uint8Array, dim: number, out: Uint32Array): void {
  const words = Math.ceil(dim / 64);
  if (words === 0) return;
  const key = mix64(seed ^ hashName(name));
  // The counter key + (j + 1) * golden advances by golden each word: a 64-bit add in halves.
  let cHi = Number(key >> 32n);
  let cLo = Number(key & 0xffffffffn);
  const gHi = Number(GOLDEN >> 32n);
  const gLo = Number(GOLDEN & 0xffffffffn);
  for (let j = 0; j < words; j++) {
    const lo = cLo + gLo;
    cLo = lo >>> 0;
    cHi = (cHi + gHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    mix64Split(cHi, cLo);
    out[2 * j] = resLo;
    out[2 * j + 1] = resHi;
  }
  const r = dim & 63;
  if (r !== 0) {
    const last = 2 * (words - 1);
    if (r <= 32) {
      out[last] = r === 32 ? out[last]! : out[last]! & ((1 << r) - 1);
      out[last + 1] = 0;
    } else {
      out[last + 1] = out[last + 1]! & ((1 << (r - 32)) - 1);
    }
  }
}

/**
 * mulberry32: a small seeded generator of doubles in [0, 1) for shuffles and initial weights
 * (folds, validation splits, the demo's MLPs). Not for hypervectors, which use SplitMix64 above.
 * @internal
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
