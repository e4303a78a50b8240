/**
 * The demo's MLPs as ONNX files: the same weights (stored as float32, as ONNX exporters do) in a
 * graph of MatMul, Add, Tanh, MatMul, Add, Softmax, with the tanh hidden layer as a named output
 * (`hidden`, the embedding hdglue glues) beside `logits` and `probabilities`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MLP } from './mlp.js';
import { encodeOnnx } from './onnx-writer.js';

/** Output names of an exported MLP. */
export const MLP_OUTPUTS = { hidden: 'hidden', logits: 'logits', probabilities: 'probabilities' } as const;

/** The ONNX file of one MLP (input `pixels`, [batch, inputs] float32). */
export async function mlpToOnnx(net: MLP, name: string): Promise<Uint8Array> {
  return encodeOnnx({
    name,
    docString: `hdglue demo MLP ${net.inputs}-${net.hidden}-${net.classes}, tanh hidden layer, softmax output`,
    inputs: [{ name: 'pixels', shape: ['batch', net.inputs] }],
    outputs: [
      { name: MLP_OUTPUTS.hidden, shape: ['batch', net.hidden] },
      { name: MLP_OUTPUTS.logits, shape: ['batch', net.classes] },
      { name: MLP_OUTPUTS.probabilities, shape: ['batch', net.classes] },
    ],
    initializers: [
      { name: 'w1', dims: [net.inputs, net.hidden], values: net.w1 },
      { name: 'b1', dims: [net.hidden], values: net.b1 },
      { name: 'w2', dims: [net.hidden, net.classes], values: net.w2 },
      { name: 'b2', dims: [net.classes], values: net.b2 },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['pixels', 'w1'], outputs: ['xw1'] },
      { op: 'Add', inputs: ['xw1', 'b1'], outputs: ['pre'] },
      { op: 'Tanh', inputs: ['pre'], outputs: [MLP_OUTPUTS.hidden] },
      { op: 'MatMul', inputs: [MLP_OUTPUTS.hidden, 'w2'], outputs: ['hw2'] },
      { op: 'Add', inputs: ['hw2', 'b2'], outputs: [MLP_OUTPUTS.logits] },
      { op: 'Softmax', inputs: [MLP_OUTPUTS.logits], outputs: [MLP_OUTPUTS.probabilities], attributes: { axis: 1 } },
    ],
  });
}

/** Write each network to `dir/NAME.onnx`; returns the paths in the same order. */
export async function exportMlps(nets: readonly MLP[], names: readonly string[], dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < nets.length; i++) {
    const path = join(dir, `${names[i]}.onnx`);
    writeFileSync(path, await mlpToOnnx(nets[i] as MLP, names[i] as string));
    paths.push(path);
  }
  return paths;
}
