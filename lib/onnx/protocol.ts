/**
 * The messages between the main thread and the ONNX worker (lib/onnx/worker.ts). Kept apart so
 * both sides type-check against one definition.
 * @internal
 */

import type { ElementType, TypedData } from './tensor.js';

/** One input or output of a model, as onnxruntime reports it. @internal */
export interface ValueInfo {
  name: string;
  /** Whether it is a tensor (sequences and maps are not, and hdglue cannot use them). */
  isTensor: boolean;
  /** onnxruntime's element type name (e.g. `'float32'`), when a tensor. */
  type?: string;
  /** Dimensions: numbers when fixed, names (e.g. `'batch'`) when symbolic. */
  shape?: (number | string)[];
}

/** Main thread to worker. @internal */
export type Request =
  | { op: 'load'; id: number; session: number; bytes: Uint8Array; threads?: number }
  | {
      op: 'run';
      id: number;
      session: number;
      input: string;
      output: string;
      type: ElementType;
      data: TypedData;
      dims: number[];
    }
  | { op: 'release'; id: number; session: number };

/** Worker to main thread. `runtime` failures mean onnxruntime-node itself did not load. @internal */
export type Reply =
  | { id: number; ok: true; inputs?: ValueInfo[]; outputs?: ValueInfo[]; data?: TypedData; dims?: number[] }
  | { id: number; ok: false; runtime: boolean; message: string };
