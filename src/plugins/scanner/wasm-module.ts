/**
 * Compiles and instantiates one of the scanner's embedded WebAssembly modules (`*-wasm.ts`, each
 * assembled from the `.wat` beside it). Null when the runtime has no WebAssembly or refuses the
 * module (no SIMD, say): every caller then takes its JavaScript path, which gives the same result.
 */

/** The part of the WebAssembly global used here (the compiler's lib has no declarations for it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => {exports: unknown}
}

/** The exports of the module whose bytes are `base64`, or null. */
export function instantiateEmbedded<T>(base64: string): T | null {
  try {
    const api = (globalThis as unknown as {WebAssembly?: WasmApi}).WebAssembly
    if (api === undefined) return null
    return new api.Instance(new api.Module(Buffer.from(base64, 'base64')), {}).exports as T
  } catch {
    return null
  }
}
