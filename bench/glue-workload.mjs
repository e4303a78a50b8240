// The glue workload of bench/run.mjs, shared with bench/glue-tier.mjs (which measures it on the
// WebAssembly and TypeScript tiers in child processes, since a process holds one backend):
// 5 members of 128 features, 10 classes, 1,257 training and 540 query embeddings drawn around
// random class centres (tanh-like values), as the digits demo's networks give.
export function glueWorkload(h, dim) {
  const F = 128;
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const centres = Array.from({ length: 5 }, () =>
    Array.from({ length: 10 }, () => Float64Array.from({ length: F }, () => rand() * 2 - 1)),
  );
  const sample = (n) => {
    const y = Array.from({ length: n }, (_, i) => i % 10);
    const x = centres.map((cs) => {
      const out = new Float64Array(n * F);
      for (let r = 0; r < n; r++)
        for (let f = 0; f < F; f++) out[r * F + f] = Math.tanh(cs[y[r]][f] + (rand() - 0.5) * 6);
      return out;
    });
    return { x, y };
  };
  const train = sample(1257);
  const query = sample(540);
  const names = ['n0', 'n1', 'n2', 'n3', 'n4'];
  const build = () => {
    const g = new h.HDGlue();
    for (const [i, n] of names.entries())
      g.addMember(n, {
        encoder: new h.EmbeddingEncoder({ features: F, dim, bins: h.DEFAULT_RECIPE.bins, seed: i }),
      });
    return g;
  };
  const trainIn = Object.fromEntries(names.map((n, i) => [n, train.x[i]]));
  const queryIn = Object.fromEntries(names.map((n, i) => [n, query.x[i]]));
  const refine = { epochs: h.DEFAULT_RECIPE.epochs, margin: h.DEFAULT_RECIPE.margin };
  const trained = build().fit(trainIn, train.y, { refine });
  return {
    queries: 540,
    predict: () => trained.predict(queryIn),
    predictHamming: () => trained.predict(queryIn, { metric: 'hamming' }),
    // One complete fit per call: encode 5 x 1,257 embeddings, fit 5 HILs, the default's
    // correction epochs.
    fit: () => build().fit(trainIn, train.y, { refine }),
  };
}
