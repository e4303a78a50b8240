/**
 * The digits data set shipped in data/ (see data/README.md for its source and licence) and the
 * tutorial's exact train/test split.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Images as rows of 64 pixel values scaled to [0, 1] (the tutorial divides by 16), and labels 0-9. */
export interface Digits {
  x: Float64Array;
  y: Int32Array;
  n: number;
  features: 64;
}

/** A subset of rows of a {@link Digits} set. */
export function subset(d: Digits, rows: ArrayLike<number>): Digits {
  const x = new Float64Array(rows.length * 64);
  const y = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as number;
    x.set(d.x.subarray(r * 64, (r + 1) * 64), i * 64);
    y[i] = d.y[r] as number;
  }
  return { x, y, n: rows.length, features: 64 };
}

const dataDir = new URL('../../data/', import.meta.url);

/** All 1,797 images, in load_digits() order. */
export function loadDigits(): Digits {
  const text = readFileSync(fileURLToPath(new URL('digits.csv', dataDir)), 'utf8')
    .trim()
    .split('\n');
  const rows = text.slice(1);
  const x = new Float64Array(rows.length * 64);
  const y = new Int32Array(rows.length);
  rows.forEach((line, r) => {
    const v = line.split(',').map(Number);
    if (v.length !== 65 || v.some((n) => !Number.isFinite(n))) throw new Error(`digits.csv: malformed row ${r + 1}`);
    for (let f = 0; f < 64; f++) x[r * 64 + f] = (v[f] as number) / 16;
    y[r] = v[64] as number;
  });
  return { x, y, n: rows.length, features: 64 };
}

/** The tutorial's split: 1,257 training and 540 test row indices. */
export function loadSplit(): { train: number[]; test: number[] } {
  const s = JSON.parse(readFileSync(fileURLToPath(new URL('digits_split.json', dataDir)), 'utf8')) as {
    train: number[];
    test: number[];
  };
  return s;
}
