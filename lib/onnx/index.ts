/**
 * `hdglue/onnx`: networks as glue members, straight from their ONNX files. An
 * {@link OnnxMember} runs one network with onnxruntime-node on a worker thread and reads a named
 * output as its embedding; an {@link OnnxGlue} runs the ONNX members of a glue on their raw
 * inputs (each in its own shape) and hands the embeddings, with any precomputed ones, to an
 * `HDGlue`. A glue saved by `hdglue fit` or {@link OnnxGlue.save} records its ONNX members'
 * files (relative to the model, with their SHA-256), and {@link OnnxGlue.fromModel} or
 * {@link onnxMembersOf} rebuilds them from the model file alone.
 *
 * onnxruntime-node is an optional peer dependency, loaded only by this entry point and only when
 * a member is loaded: importing `hdglue` never loads it, and without it installed
 * {@link OnnxMember.load} rejects with `ERR_HDGLUE_ONNX_RUNTIME_MISSING`, whose message says how
 * to install it.
 * @packageDocumentation
 */
export { type MixedInputs, OnnxGlue } from './glue.js';
export { OnnxMember, type OnnxMemberOptions } from './member.js';
export { type OnnxSourcesOptions, onnxMembersOf, onnxSourceOf, onnxSourcePath } from './sources.js';
export type { ElementType, RawInput, TensorInput, TypedData } from './tensor.js';
