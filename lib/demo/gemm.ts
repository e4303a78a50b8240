/**
 * One matrix-product kernel for the demo networks ({@link ./convnet.ts}): `C += A B` with A and B
 * given by arbitrary row and column strides, so transposed operands need no copy.
 *
 * Why blocked: V8 does not vectorize, so a plain `c[j] += a * b[j]` loop pays a load and a store of
 * C for every multiply-add (about 0.35 G multiply-adds/s on the two-core development VM). Computing a 4 x 4
 * block of C in 16 local variables loads 8 values per 16 multiply-adds and stores C once per block,
 * which V8 keeps in registers: 1.0-1.5 G/s on the same core, 3-4x faster for the networks' shapes.
 * @internal
 */

/**
 * `C[i][j] += sum_k A[i][k] * B[k][j]` for i < M, j < N, k < K, where
 * `A[i][k] = a[aOff + i * ars + k * acs]`, `B[k][j] = b[bOff + k * brs + j * bcs]` and
 * `C[i][j] = c[cOff + i * ldc + j]`. Sums run over k in order, in double precision, then round once
 * into C.
 */
export function gemm(
  M: number,
  N: number,
  K: number,
  a: Float32Array,
  aOff: number,
  ars: number,
  acs: number,
  b: Float32Array,
  bOff: number,
  brs: number,
  bcs: number,
  c: Float32Array,
  cOff: number,
  ldc: number,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const r0 = aOff + i * ars;
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0;
      let c01 = 0;
      let c02 = 0;
      let c03 = 0;
      let c10 = 0;
      let c11 = 0;
      let c12 = 0;
      let c13 = 0;
      let c20 = 0;
      let c21 = 0;
      let c22 = 0;
      let c23 = 0;
      let c30 = 0;
      let c31 = 0;
      let c32 = 0;
      let c33 = 0;
      let a0 = r0;
      let a1 = r0 + ars;
      let a2 = a1 + ars;
      let a3 = a2 + ars;
      let b0 = bOff + j * bcs;
      let b1 = b0 + bcs;
      let b2 = b1 + bcs;
      let b3 = b2 + bcs;
      for (let k = 0; k < K; k++) {
        const x0 = a[a0] as number;
        const x1 = a[a1] as number;
        const x2 = a[a2] as number;
        const x3 = a[a3] as number;
        const y0 = b[b0] as number;
        const y1 = b[b1] as number;
        const y2 = b[b2] as number;
        const y3 = b[b3] as number;
        c00 += x0 * y0;
        c01 += x0 * y1;
        c02 += x0 * y2;
        c03 += x0 * y3;
        c10 += x1 * y0;
        c11 += x1 * y1;
        c12 += x1 * y2;
        c13 += x1 * y3;
        c20 += x2 * y0;
        c21 += x2 * y1;
        c22 += x2 * y2;
        c23 += x2 * y3;
        c30 += x3 * y0;
        c31 += x3 * y1;
        c32 += x3 * y2;
        c33 += x3 * y3;
        a0 += acs;
        a1 += acs;
        a2 += acs;
        a3 += acs;
        b0 += brs;
        b1 += brs;
        b2 += brs;
        b3 += brs;
      }
      let o = cOff + i * ldc + j;
      c[o] = (c[o] as number) + c00;
      c[o + 1] = (c[o + 1] as number) + c01;
      c[o + 2] = (c[o + 2] as number) + c02;
      c[o + 3] = (c[o + 3] as number) + c03;
      o += ldc;
      c[o] = (c[o] as number) + c10;
      c[o + 1] = (c[o + 1] as number) + c11;
      c[o + 2] = (c[o + 2] as number) + c12;
      c[o + 3] = (c[o + 3] as number) + c13;
      o += ldc;
      c[o] = (c[o] as number) + c20;
      c[o + 1] = (c[o + 1] as number) + c21;
      c[o + 2] = (c[o + 2] as number) + c22;
      c[o + 3] = (c[o + 3] as number) + c23;
      o += ldc;
      c[o] = (c[o] as number) + c30;
      c[o + 1] = (c[o + 1] as number) + c31;
      c[o + 2] = (c[o + 2] as number) + c32;
      c[o + 3] = (c[o + 3] as number) + c33;
    }
  }
  // The edges (the last M % 4 rows, and the last N % 4 columns of the blocked rows): plain dot products.
  for (let i = 0; i < M; i++) {
    for (let j = i < M4 ? N4 : 0; j < N; j++) {
      let s = 0;
      let ai = aOff + i * ars;
      let bj = bOff + j * bcs;
      for (let k = 0; k < K; k++) {
        s += (a[ai] as number) * (b[bj] as number);
        ai += acs;
        bj += brs;
      }
      const o = cOff + i * ldc + j;
      c[o] = (c[o] as number) + s;
    }
  }
}
