/**
 * Writing small ONNX models: a graph of standard operators over float32 initializers, encoded
 * with protobufjs from the schema subset in onnx-subset.ts. The demo uses it to export its MLPs,
 * the tests to build networks whose weights they know. protobufjs is a development dependency,
 * loaded here only, with an error that says what to install when it is missing.
 * @internal
 */
import { ErrorCode, HdglueError } from '../errors.js';
import { ONNX_SUBSET_PROTO } from './onnx-subset.js';

/** ONNX element types the writer declares (TensorProto.DataType values). @internal */
export const ONNX_TYPE = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, float64: 11 } as const;

/** A graph input or output: name, element type and shape (a string is a free dimension). @internal */
export interface OnnxValue {
  name: string;
  type?: keyof typeof ONNX_TYPE;
  shape: readonly (number | string)[];
}

/** One node; `attributes` hold ints (e.g. Softmax's axis) or floats. @internal */
export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Record<string, number | readonly number[]>;
  /** Whether numeric attributes are ints (default) or floats. */
  floatAttributes?: boolean;
}

/** A constant tensor of the graph (weights and biases). @internal */
export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  /** Stored as float32, little-endian raw data, as exporters write it. */
  values: ArrayLike<number>;
}

/** A whole single-graph model. @internal */
export interface OnnxGraph {
  name: string;
  inputs: readonly OnnxValue[];
  outputs: readonly OnnxValue[];
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxInitializer[];
  /** Default opset 17 (onnxruntime 1.22 and later run it). */
  opset?: number;
  docString?: string;
}

type Protobuf = typeof import('protobufjs');

let schema: Promise<import('protobufjs').Type> | undefined;

async function modelType(): Promise<import('protobufjs').Type> {
  schema ??= (async () => {
    let pb: Protobuf;
    try {
      const m = (await import('protobufjs')) as Protobuf & { default?: Protobuf };
      pb = m.default ?? m;
    } catch (e) {
      throw new HdglueError(
        ErrorCode.ONNX_RUNTIME_MISSING,
        'writing ONNX files needs the development package protobufjs: npm install protobufjs',
        { cause: e },
      );
    }
    return pb.parse(ONNX_SUBSET_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  })();
  return schema;
}

/** The ONNX file (protobuf bytes) of a graph. @internal */
export async function encodeOnnx(g: OnnxGraph): Promise<Uint8Array> {
  const T = await modelType();
  const value = (v: OnnxValue) => ({
    name: v.name,
    type: {
      tensor_type: {
        elem_type: ONNX_TYPE[v.type ?? 'float32'],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  });
  const model = {
    // IR version 8 goes with opset 17 (ONNX 1.12); onnxruntime reads both.
    ir_version: 8,
    producer_name: 'hdglue',
    doc_string: g.docString ?? '',
    opset_import: [{ domain: '', version: g.opset ?? 17 }],
    graph: {
      name: g.name,
      node: g.nodes.map((n, i) => ({
        name: `${n.op.toLowerCase()}_${i}`,
        op_type: n.op,
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attributes ?? {}).map(([name, v]) =>
          typeof v === 'number'
            ? n.floatAttributes
              ? { name, type: 1, f: v }
              : { name, type: 2, i: v }
            : n.floatAttributes
              ? { name, type: 6, floats: [...v] }
              : { name, type: 7, ints: [...v] },
        ),
      })),
      initializer: g.initializers.map((t) => {
        const f = Float32Array.from(t.values);
        const raw = new Uint8Array(f.length * 4);
        const view = new DataView(raw.buffer);
        f.forEach((v, i) => {
          view.setFloat32(i * 4, v, true);
        });
        return { name: t.name, dims: [...t.dims], data_type: ONNX_TYPE.float32, raw_data: raw };
      }),
      input: g.inputs.map(value),
      output: g.outputs.map(value),
    },
  };
  const err = T.verify(model);
  if (err) throw new Error(`internal: an ONNX model that does not fit the schema: ${err}`);
  return T.encode(T.fromObject(model)).finish();
}
