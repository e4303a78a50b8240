/**
 * The glue's micro-batcher: a {@link MicroBatcher} whose batches are `glue.predictAsync` calls,
 * so the encoding of a whole batch runs off the event loop in one native call. Each row's label
 * depends on that row alone (the encoders, every readout and every consensus rule work row by
 * row, and float32 rows widen to float64 exactly before binning), so a request's labels are
 * those of `glue.predictAsync(request)` alone, whoever shares its batch.
 */
import { typeError } from '../errors.js';
import type { Label } from '../label.js';
import { type Consensus, checkConsensus } from '../model/consensus.js';
import { HDGlue } from '../model/glue.js';
import { checkMetric, type Metric } from '../model/hil-options.js';
import { checkOptions, describe, LIMITS, refuseRenamed } from '../validate.js';
import { MicroBatcher } from './micro-batcher.js';
import type { MicroBatcherOptions } from './options.js';
import type { RowMatrix } from './rows.js';

/** Options of {@link glueBatcher}: the scheduling, and the prediction options every batch uses. */
export interface GlueBatcherOptions extends MicroBatcherOptions {
  /** Consensus of every prediction; default the glue's own. */
  consensus?: Consensus;
  /** Similarity metric of every prediction; default each layer's own. */
  metric?: Metric;
}

/**
 * A micro-batcher over a glue: `submit({ [member]: rows })` resolves with the labels
 * `glue.predictAsync` gives those rows alone, while concurrent requests with the same members
 * present share one `predictAsync` call. Requests are checked against the glue's members as they
 * are at submit (unknown member, width, NaN: the glue's own codes), so a bad request never fails
 * another's batch; members may be added or removed while it runs (a batch running through such a
 * change fails with `ERR_HDGLUE_BUSY`, as `predictAsync` does). A request that `predictAsync`
 * alone would refuse for its size (`ERR_HDGLUE_LIMIT`: rows times classes above
 * `LIMITS.scores`) is predicted in parts instead.
 *
 * ```ts
 * const batcher = glueBatcher(glue, { maxBatch: 256, maxWaitMs: 2 });
 * const [label] = await batcher.submit({ image: [embedding] }, { signal });
 * await batcher.close();
 * ```
 */
export function glueBatcher(glue: HDGlue, options?: GlueBatcherOptions): MicroBatcher<Label> {
  if (!(glue instanceof HDGlue)) throw typeError(`glue must be an HDGlue, got ${describe(glue)}`);
  const o = checkOptions(options);
  // The glue's old name for consensus is refused here as in predict, never silently ignored.
  refuseRenamed(o, { strategy: 'consensus' });
  // Checked now: a bad consensus or metric is the caller's error here, not every batch's.
  const predict: { consensus?: Consensus; metric?: Metric } = {};
  if (o.consensus !== undefined) predict.consensus = checkConsensus(o.consensus);
  if (o.metric !== undefined) predict.metric = checkMetric(o.metric);
  if ((o as { widths?: unknown }).widths !== undefined)
    throw typeError('glueBatcher takes its widths from the glue; widths is not an option');
  const run = async (
    inputs: Readonly<Record<string, RowMatrix>>,
    rows: number,
    features: Readonly<Record<string, number>>,
  ) => {
    // Rows times classes is bounded per call (LIMITS.scores); a batch of many small requests
    // may pass it where none alone would, so it is predicted in parts, in order.
    const part = Math.max(1, Math.floor(LIMITS.scores / Math.max(1, glue.labels().length)));
    if (rows <= part) return glue.predictAsync(inputs, predict);
    const out: Label[] = [];
    for (let r0 = 0; r0 < rows; r0 += part) {
      const r1 = Math.min(rows, r0 + part);
      const slice = Object.fromEntries(
        Object.entries(inputs).map(([n, x]) => [
          n,
          x.subarray(r0 * (features[n] as number), r1 * (features[n] as number)),
        ]),
      );
      out.push(...(await glue.predictAsync(slice, predict)));
    }
    return out;
  };
  return new MicroBatcher<Label>(run, {
    ...schedule(o),
    // Read at every request, so members added or removed later are seen; an unknown name is the
    // glue's own ERR_HDGLUE_UNKNOWN_MEMBER error.
    widths: (name: string) => glue.member(name).encoder.features,
    dtype: 'auto',
  });
}

// The scheduling options only, so no prediction option reaches the batcher's checks.
function schedule(o: Partial<GlueBatcherOptions>): MicroBatcherOptions {
  const out: MicroBatcherOptions = {};
  if (o.maxBatch !== undefined) out.maxBatch = o.maxBatch;
  if (o.maxWaitMs !== undefined) out.maxWaitMs = o.maxWaitMs;
  if (o.maxQueue !== undefined) out.maxQueue = o.maxQueue;
  if (o.concurrency !== undefined) out.concurrency = o.concurrency;
  if (o.onBatch !== undefined) out.onBatch = o.onBatch;
  return out;
}
