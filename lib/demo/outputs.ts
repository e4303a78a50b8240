/**
 * Where the demo's network outputs come from: the MLPs computed in JavaScript (float64), or,
 * with `--onnx`, the same MLPs exported to ONNX files and run by onnxruntime-node through
 * hdglue's ONNX members (float32 weights and arithmetic, so the embeddings differ from the
 * JavaScript ones in about the 7th significant digit).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxMember } from '../onnx/member.js';
import type { Digits } from './digits.js';
import type { MLP } from './mlp.js';
import { exportMlps, MLP_OUTPUTS } from './onnx-export.js';

/** Hidden-layer embeddings of the training and test rows, and test-set class probabilities, per network. */
export interface NetworkOutputs {
  trainEmb: Float64Array[];
  testEmb: Float64Array[];
  probs: Float64Array[];
}

/**
 * The networks' outputs. `onnx`: `false` computes them in JavaScript; `true` exports the
 * networks to a temporary directory (removed afterwards) and runs the files; a string is a
 * directory to export to and keep.
 */
export async function networkOutputs(
  nets: readonly MLP[],
  names: readonly string[],
  train: Digits,
  test: Digits,
  onnx: boolean | string,
): Promise<NetworkOutputs> {
  if (onnx === false) {
    return {
      trainEmb: nets.map((net) => net.embed(train.x, train.n)),
      testEmb: nets.map((net) => net.embed(test.x, test.n)),
      probs: nets.map((net) => net.probabilities(test.x, test.n)),
    };
  }
  const dir = typeof onnx === 'string' ? onnx : mkdtempSync(join(tmpdir(), 'hdglue-demo-onnx-'));
  mkdirSync(dir, { recursive: true });
  const opened: OnnxMember[] = [];
  try {
    const paths = await exportMlps(nets, names, dir);
    const out: NetworkOutputs = { trainEmb: [], testEmb: [], probs: [] };
    // Pixels as float32, the model's input type; the values (k / 16) are exact in float32.
    const trainX = Float32Array.from(train.x);
    const testX = Float32Array.from(test.x);
    for (let i = 0; i < paths.length; i++) {
      const name = names[i] as string;
      const hidden = await OnnxMember.load(paths[i] as string, { output: MLP_OUTPUTS.hidden, name });
      opened.push(hidden);
      const probabilities = await OnnxMember.load(paths[i] as string, { output: MLP_OUTPUTS.probabilities, name });
      opened.push(probabilities);
      // Widened to float64 exactly, so everything downstream is the code the JavaScript path runs.
      out.trainEmb.push(Float64Array.from(await hidden.embed(trainX)));
      out.testEmb.push(Float64Array.from(await hidden.embed(testX)));
      out.probs.push(Float64Array.from(await probabilities.embed(testX)));
    }
    return out;
  } finally {
    await Promise.all(opened.map((m) => m.close()));
    if (typeof onnx !== 'string') rmSync(dir, { recursive: true, force: true });
  }
}
