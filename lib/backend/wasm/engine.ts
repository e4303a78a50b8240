/**
 * The part of the JavaScript engine's `WebAssembly` object this backend uses, typed here: the
 * package compiles against ES2022 and Node's types, neither of which declares it, and it is
 * absent altogether under `node --jitless`.
 * @internal
 */

/** A compiled module (opaque; it can be sent to worker threads). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

/** A module's linear memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** The engine's constructors and checks. */
export interface WasmEngine {
  Module: { new (bytes: Uint8Array): WasmModule; imports(m: WasmModule): { module: string; name: string }[] };
  Instance: new (m: WasmModule, imports: object) => { exports: Record<string, unknown> };
  RuntimeError: new (...a: unknown[]) => Error;
  CompileError: new (...a: unknown[]) => Error;
  validate(bytes: Uint8Array): boolean;
}

/** The engine's WebAssembly, or undefined where it is off. */
export function wasmEngine(): WasmEngine | undefined {
  const w = (globalThis as { WebAssembly?: WasmEngine }).WebAssembly;
  return typeof w === 'object' && w !== null && typeof w.Module === 'function' ? w : undefined;
}
