/**
 * A trained {@link Network} as an ONNX file, so the networks of `npm run accuracy:large` can also be
 * glued as ONNX members (`hdglue fit --member cnn5=cnn5.onnx:features --input cnn5=x.npy`).
 *
 * The graph takes the raw pixel bytes, `[batch, c, h, w]` uint8 (what the benchmark stores, a
 * quarter of the size of floats), casts them to float32 and divides by 255 as the training code
 * does, then runs the same layers with the same float32 weights: Conv (no padding, stride 1), Relu
 * / Tanh, MaxPool (kernel = stride, floor), Flatten before the first dense layer, MatMul + Add.
 * Outputs: `features` (the embedding, the last hidden layer), `logits` and `probabilities`.
 * onnxruntime sums in a different order than lib/demo/convnet.ts, so its outputs differ from the
 * JavaScript ones in the last float32 bits.
 */

import type { Network } from './convnet.js';
import { encodeOnnx, type OnnxInitializer, type OnnxNode } from './onnx-writer.js';

/** Output names of an exported network. */
export const NETWORK_OUTPUTS = { features: 'features', logits: 'logits', probabilities: 'probabilities' } as const;

/** The ONNX bytes of a network whose input is an image (any channels and size), fed as uint8 pixels. */
export async function networkToOnnx(net: Network, name: string): Promise<Uint8Array> {
  const { spec } = net;
  const params = net.parameters();
  let p = 0;
  const initializers: OnnxInitializer[] = [{ name: 'scale', dims: [], values: [255] }];
  const nodes: OnnxNode[] = [
    { op: 'Cast', inputs: ['pixels'], outputs: ['pixels_f'], attributes: { to: 1 } },
    { op: 'Div', inputs: ['pixels_f', 'scale'], outputs: ['x0'] },
  ];
  let cur = 'x0';
  let shape: [number, number, number] = [...spec.input];
  let flat = false;
  spec.layers.forEach((l, i) => {
    const out = i === spec.layers.length - 1 ? NETWORK_OUTPUTS.features : `h${i}`;
    switch (l.kind) {
      case 'conv': {
        initializers.push(
          { name: `w${i}`, dims: [l.filters, shape[0], l.kernel, l.kernel], values: params[p++] as Float32Array },
          { name: `b${i}`, dims: [l.filters], values: params[p++] as Float32Array },
        );
        nodes.push({
          op: 'Conv',
          inputs: [cur, `w${i}`, `b${i}`],
          outputs: [out],
          attributes: { kernel_shape: [l.kernel, l.kernel] },
        });
        shape = [l.filters, shape[1] - l.kernel + 1, shape[2] - l.kernel + 1];
        break;
      }
      case 'maxpool':
        nodes.push({
          op: 'MaxPool',
          inputs: [cur],
          outputs: [out],
          attributes: { kernel_shape: [l.size, l.size], strides: [l.size, l.size] },
        });
        shape = [shape[0], Math.floor(shape[1] / l.size), Math.floor(shape[2] / l.size)];
        break;
      case 'dense': {
        if (!flat) {
          // The JavaScript layers see a row as channel-major values, exactly Flatten(axis 1) of NCHW.
          nodes.push({ op: 'Flatten', inputs: [cur], outputs: [`flat${i}`], attributes: { axis: 1 } });
          cur = `flat${i}`;
          flat = true;
        }
        const inSize = shape[0] * shape[1] * shape[2];
        initializers.push(
          { name: `w${i}`, dims: [inSize, l.units], values: params[p++] as Float32Array },
          { name: `b${i}`, dims: [l.units], values: params[p++] as Float32Array },
        );
        nodes.push(
          { op: 'MatMul', inputs: [cur, `w${i}`], outputs: [`m${i}`] },
          { op: 'Add', inputs: [`m${i}`, `b${i}`], outputs: [out] },
        );
        shape = [l.units, 1, 1];
        break;
      }
      default:
        nodes.push({ op: l.kind === 'relu' ? 'Relu' : 'Tanh', inputs: [cur], outputs: [out] });
    }
    cur = out;
  });
  if (!flat) {
    nodes.push({ op: 'Flatten', inputs: [cur], outputs: ['flat_head'], attributes: { axis: 1 } });
    cur = 'flat_head';
  }
  const width = net.embeddingSize;
  initializers.push(
    { name: 'w_head', dims: [width, spec.classes], values: params[p++] as Float32Array },
    { name: 'b_head', dims: [spec.classes], values: params[p++] as Float32Array },
  );
  nodes.push(
    { op: 'MatMul', inputs: [cur, 'w_head'], outputs: ['m_head'] },
    { op: 'Add', inputs: ['m_head', 'b_head'], outputs: [NETWORK_OUTPUTS.logits] },
    {
      op: 'Softmax',
      inputs: [NETWORK_OUTPUTS.logits],
      outputs: [NETWORK_OUTPUTS.probabilities],
      attributes: { axis: 1 },
    },
  );
  // A network of dense layers only has its embedding as [batch, units]; one ending in a conv or
  // pool layer as [batch, c, h, w], which hdglue's ONNX member flattens per row.
  const featureShape = flat ? ['batch', width] : ['batch', ...shape];
  return encodeOnnx({
    name,
    docString: `hdglue accuracy:large network ${name}: ${JSON.stringify(spec.layers)}`,
    inputs: [{ name: 'pixels', type: 'uint8', shape: ['batch', ...spec.input] }],
    outputs: [
      { name: NETWORK_OUTPUTS.features, shape: featureShape },
      { name: NETWORK_OUTPUTS.logits, shape: ['batch', spec.classes] },
      { name: NETWORK_OUTPUTS.probabilities, shape: ['batch', spec.classes] },
    ],
    initializers,
    nodes,
  });
}
