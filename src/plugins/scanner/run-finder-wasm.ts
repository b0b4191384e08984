/**
 * The run finders of a binary body in WebAssembly with 128-bit SIMD (issue 36): the UTF-8 text
 * runs of `text-runs.ts` and the printable runs of `decoders.ts`, with the same starts and ends
 * as their JavaScript loops, which stay the reference (`binary-runs-differential.test.ts`
 * compares every run boundary) and the path for bodies this module is not used for.
 *
 * Why WebAssembly: speed. A JavaScript loop over a 64 KiB body's bytes alone costs ≈ 49 µs,
 * three quarters of the 65 µs that 1 GB/s allows, before the runs are scanned at all; here
 * sixteen bytes are classified per instruction and the runs looked for in 64-bit words.
 *
 * The source is `run-finder.wat` beside this file (commented: memory layout, the three
 * nibble tables of the byte-pair rule, the finders' steps); the bytes below are assembled from
 * it by `node scripts/gen-wasm.mjs` with wabt, a dev dependency (`--check` tells whether
 * they are current). The module is compiled on first use, not at import.
 */

import {instantiateEmbedded} from './wasm-module.js'

// BEGIN run-finder.wasm
const MODULE_BASE64 =
  'AGFzbQEAAAABHQRgBH9/f38AYAN/f38Bf2ACf38Bf2AEf39/fwF/AwcGAAECAwMBBQMBADAHMAQGbWVtb3J5AgAJdXRmOF9ydW5z' +
  'AAMOcHJpbnRhYmxlX3J1bnMABAZkYW1hZ2UABQr9EgbKBAMDfwJ7BX9BASEGIAYgAiAGayIJIAYgCUkbQQAgBiACSRsiCSAGaiEG' +
  'IAYgAiAGayIKIAYgCkkbQQAgBiACSRsiCiAGaiEGIAYgAiAGayILIAYgC0kbQQAgBiACSRsiCyAGaiEGIAYgAiAGayIMIAYgDEkb' +
  'QQAgBiACSRsiDCAGaiEGIAYgAiAGayINIAYgDUkbQQAgBiACSRsiDSAGaiEGAkADQCAEIAFPDQEgACAEQQN0aiIF/QAAACEHIAX9' +
  'AAAIIQggAkUEQP0M/////////////////////yEHBQJAIAlFDQAgB/1TRQ0AIAcgByAJ/c0BIAhBwAAgCWv9ywH9UP1OIQcgCCAI' +
  'IAn9zQH9TiEIIApFDQAgB/1TRQ0AIAcgByAK/c0BIAhBwAAgCmv9ywH9UP1OIQcgCCAIIAr9zQH9TiEIIAtFDQAgB/1TRQ0AIAcg' +
  'ByAL/c0BIAhBwAAgC2v9ywH9UP1OIQcgCCAIIAv9zQH9TiEIIAxFDQAgB/1TRQ0AIAcgByAM/c0BIAhBwAAgDGv9ywH9UP1OIQcg' +
  'CCAIIAz9zQH9TiEIIA1FDQAgB/1TRQ0AIAcgByAN/c0BIAhBwAAgDWv9ywH9UP1OIQcgCCAIIA39zQH9TiEICwsgBSAH/QsAACAE' +
  'QQJqIQQMAAsLIANBBnYhBCADQT9xBEAgACAEQQN0aiIFIAUpAwBCASADrYZCAX2DNwMAIARBAWohBAsCQANAIAQgAU8NASAAIARB' +
  'A3RqQgA3AwAgBEEBaiEEDAALCwtfAgF/AX4gAkEGdiIDIAFPBEBBfw8LIAAgA0EDdGopAwBCfyACrYaDIQQCQANAIARQRQ0BIANB' +
  'AWoiAyABTwRAQX8PCyAAIANBA3RqKQMAIQQMAAsLIANBBnQgBHqnagucAQEDfyAAIQICQANAIAIgAU8NASACLQCACCIDQYABSQRA' +
  'IAJBAWohAgwBCyADLQBAIgRFDQEgAiAEaiABSw0BIANBBHYtAAAgA0EPcS0AEHEgAi0AgQhBBHYtACBxDQEgBEECSwRAIAItAIII' +
  'QcABcUGAAUcNAgsgBEEDSwRAIAItAIMIQcABcUGAAUcNAgsgAiAEaiECDAALCyACC78DAgh/Bnv9DMDAwMDAwMDAwMDAwMDAwMAh' +
  'Dv0MgICAgICAgICAgICAgICAgCEP/Qy/v7+/v7+/v7+/v7+/v7+/IRAgACABSQRAQQAPCyAAQT9qQQZ2IQQCQANAIAUgBE8NASAF' +
  'QQZ0QYAIaiEGIAIgBUEDdGogBv0AAAEgDv1OIA/9IyINIBEgBv0AAAAiDP0n/U8gDCAQ/SggDf1P/VD9ZK0gBv0AABEgDv1OIA/9' +
  'IyINIBEgBv0AABAiDP0n/U8gDCAQ/SggDf1P/VD9ZK1CEIaEIAb9AAAhIA79TiAP/SMiDSARIAb9AAAgIgz9J/1PIAwgEP0oIA39' +
  'T/1Q/WStQiCGhCAG/QAAMSAO/U4gD/0jIg0gESAG/QAAMCIM/Sf9TyAMIBD9KCAN/U/9UP1krUIwhoRCf4U3AwAgBUEBaiEFDAAL' +
  'CyACIARBA3RqIgZCADcDACAGQgA3AwggAiAEIAFBAWsgACABa0EBahAAAkADQCACIAQgBxABIghBAEgNASAIIAAQAiEJIAkgCGsg' +
  'AU8EQCADIApBA3RqIgYgCDYCACAGIAk2AgQgCkEBaiEKCyAJQQFqIQcMAAsLIAoLkwMCCH8Ee/0MICAgICAgICAgICAgICAgICEN' +
  '/QxfX19fX19fX19fX19fX19fIQ79DAkJCQkJCQkJCQkJCQkJCQkhDyAAIAFJBEBBAA8LIABBP2pBBnYhBAJAA0AgBSAETw0BIAVB' +
  'BnRBgAhqIQYgAiAFQQN0aiAG/QAAACIMIA39cSAO/SYgDCAP/SP9UP1krSAG/QAAECIMIA39cSAO/SYgDCAP/SP9UP1krUIQhoQg' +
  'Bv0AACAiDCAN/XEgDv0mIAwgD/0j/VD9ZK1CIIaEIAb9AAAwIgwgDf1xIA79JiAMIA/9I/1Q/WStQjCGhDcDACAFQQFqIQUMAAsL' +
  'IAIgBEEDdGoiBkIANwMAIAZCADcDCCACIAQgASAAIAFrQQFqEAACQANAIAIgBCAHEAEiCEEASA0BIAggAWohCQJAA0AgCSAATw0B' +
  'IAktAIAIIgtBCUYgC0Ega0HfAElyRQ0BIAlBAWohCQwACwsgAyAKQQN0aiIGIAg2AgAgBiAJNgIEIApBAWohCiAJQQFqIQcMAAsL' +
  'IAoL2gUCBH8BeyAAQT9qQQZ2IQMCQANAIAQgA08NASAEQQZ0QYAIaiIF/QAAAP1kaSAF/QAAEP1kaWogBf0AACD9ZGlqIAX9AAAw' +
  '/WRpaiIGIAJNBEAgBf0AAAAiB/0MICAgICAgICAgICAgICAgIP0mIAf9DAAAAAAAAAAAAAAAAAAAAAD9IyAH/QwJCQkJCQkJCQkJ' +
  'CQkJCQkJ/SP9UCAH/QwKCgoKCgoKCgoKCgoKCgoK/SP9UCAH/QwNDQ0NDQ0NDQ0NDQ0NDQ0N/SP9UP1PIAf9DH9/f39/f39/f39/' +
  'f39/f3/9I/1Q/WRpIAZqIQYgBf0AABAiB/0MICAgICAgICAgICAgICAgIP0mIAf9DAAAAAAAAAAAAAAAAAAAAAD9IyAH/QwJCQkJ' +
  'CQkJCQkJCQkJCQkJ/SP9UCAH/QwKCgoKCgoKCgoKCgoKCgoK/SP9UCAH/QwNDQ0NDQ0NDQ0NDQ0NDQ0N/SP9UP1PIAf9DH9/f39/' +
  'f39/f39/f39/f3/9I/1Q/WRpIAZqIQYgBf0AACAiB/0MICAgICAgICAgICAgICAgIP0mIAf9DAAAAAAAAAAAAAAAAAAAAAD9IyAH' +
  '/QwJCQkJCQkJCQkJCQkJCQkJ/SP9UCAH/QwKCgoKCgoKCgoKCgoKCgoK/SP9UCAH/QwNDQ0NDQ0NDQ0NDQ0NDQ0N/SP9UP1PIAf9' +
  'DH9/f39/f39/f39/f39/f3/9I/1Q/WRpIAZqIQYgBf0AADAiB/0MICAgICAgICAgICAgICAgIP0mIAf9DAAAAAAAAAAAAAAAAAAA' +
  'AAD9IyAH/QwJCQkJCQkJCQkJCQkJCQkJ/SP9UCAH/QwKCgoKCgoKCgoKCgoKCgoK/SP9UCAH/QwNDQ0NDQ0NDQ0NDQ0NDQ0N/SP9' +
  'UP1PIAf9DH9/f39/f39/f39/f39/f3/9I/1Q/WRpIAZqIQYLIAEgBGogBjoAACAEQQFqIQQMAAsLIAMLC9MCBgBBAAsQAgICAgIC' +
  'AgIAAAAABQExyQBBEAsQVwcDA4MLCwsLCwsLCysLCwBBIAsQDQ0NDQ0NDQ1enq6uDQ0NDQBBwAALgAEBAQEBAQEBAQEBAQEBAQEB' +
  'AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB' +
  'AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQBBwAELQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
  'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQYACC0AAAAICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgMDAwMD' +
  'AwMDAwMDAwMDAwMEBAQEBAAAAAAAAAAAAAAA'

// END run-finder.wasm

/** Where the body is written in the module's memory (the tables lie below). */
const BODY_AT = 1024
/** Zero bytes after the body: the 16-byte loads of the last word's blocks read past its end. */
const PAD = 96
/**
 * The largest body the module reads; larger ones, and calls whose bit words and bounds would not
 * fit in its memory (3 MiB, `run-finder.wat`; pages are only backed once written), go through the
 * JavaScript loops. The memory never grows: growing it detaches its old buffer, and the first
 * detached buffer in a process makes V8 check every typed-array access of optimised code for
 * detachment from then on — a JavaScript loop over a Buffer's bytes ran at half speed after it
 * (measured: 49 → 93–97 µs per 64 KiB, every buffer, for the rest of the process).
 */
const WASM_RUN_MAX_BYTES = 1 << 20
/** The longest `min` the module takes: its windows are built in five doubling steps (32 bits). */
const WASM_MAX_MIN = 32

type Finder = (n: number, min: number, g: number, out: number) => number

interface RunModule {
  readonly memory: {readonly buffer: ArrayBuffer}
  readonly utf8_runs: Finder
  readonly printable_runs: Finder
  /** The damage of each 64 positions (`text-runs.ts` `damageCounts`, exact up to `max`), a byte each from `d`; returns their number. */
  readonly damage: (n: number, d: number, max: number) => number
}

let loaded: RunModule | null | undefined
let enabled = true

function runModule(): RunModule | null {
  // Null without WebAssembly (or SIMD): the JavaScript loops find the same runs.
  if (loaded === undefined) loaded = instantiateEmbedded<RunModule>(MODULE_BASE64)
  return loaded
}

/** Tests: false sends every body through the JavaScript loops (the reference), true restores. */
export function useRunFinderWasm(on: boolean): void {
  enabled = on
}

/**
 * The runs of `body` of at least `min` bytes as (start, end) pairs: `utf8` the text runs
 * (`text-runs.ts`), `printable` the printable-ASCII-and-tab runs (`decoders.ts`). Null when the
 * module is not used for this call (too large, `min` out of its range, unavailable); the caller
 * then runs its JavaScript loop. The result views the module's memory: read it before the next call.
 */
export function wasmRunBounds(kind: 'utf8' | 'printable', body: Uint8Array, min: number): Int32Array | null {
  const m = loadedBody(body, min)
  return m === null ? null : find(m, kind, body.length, min)
}

/**
 * Both kinds of runs of one body with one copy of it into the module's memory (the copy and
 * its padding were ≈ 3 µs of each finder's call on 64 KiB): `read` gets the text runs of at
 * least `minUtf8` bytes, then the printable runs of at least `minPrintable` (none when null),
 * each a view valid during its call only; then `damage.read`, when given, the damage of each 64
 * positions (`damageCounts(body, damage.max)` in text-runs.ts). False when the module does not
 * take the body (nothing is read).
 */
export function wasmBothRunBounds(
  body: Uint8Array,
  minUtf8: number,
  minPrintable: number | null,
  read: (kind: 'utf8' | 'printable', bounds: Int32Array) => void,
  damage?: {readonly max: number; readonly read: (counts: Uint8Array) => void},
): boolean {
  if (!validMin(minUtf8) || (minPrintable !== null && !validMin(minPrintable))) return false
  // The fewer bytes a run may have, the more bounds the output may need: checked for the smaller.
  const least = minPrintable === null ? minUtf8 : Math.min(minUtf8, minPrintable)
  const m = loadedBody(body, least)
  if (m === null) return false
  read('utf8', find(m, 'utf8', body.length, minUtf8))
  if (minPrintable !== null) read('printable', find(m, 'printable', body.length, minPrintable))
  if (damage !== undefined) {
    // The counts go where the bounds of the most runs end (`loadedBody` checked that they fit).
    const at = damageAt(body.length, least)
    damage.read(new Uint8Array(m.memory.buffer, at, m.damage(body.length, at, damage.max)))
  }
  return true
}

function validMin(min: number): boolean {
  return Number.isInteger(min) && min >= 1 && min <= WASM_MAX_MIN
}

/** Where the module's bit words start for a body of `n` bytes. */
function wordsAt(n: number): number {
  return (BODY_AT + n + PAD + 7) & ~7
}

/** Where its bounds are written (after the bit words). */
function boundsAt(n: number): number {
  return wordsAt(n) + (((n + 63) >>> 6) + 2) * 8
}

/** Where the damage counts are written: after the bounds of the most runs of at least `min` bytes. */
function damageAt(n: number, min: number): number {
  // A run and the byte after it take at least min + 1 bytes: at most ⌊n / (min + 1)⌋ + 1 runs.
  return boundsAt(n) + 8 * (Math.floor(n / (min + 1)) + 2)
}

/**
 * The module with `body` copied into its memory and zero padding after it, when it takes the
 * body for runs of at least `min` bytes; else null.
 */
function loadedBody(body: Uint8Array, min: number): RunModule | null {
  const n = body.length
  if (!enabled || n > WASM_RUN_MAX_BYTES || !validMin(min)) return null
  const m = runModule()
  if (m === null) return null
  // The bounds, then a byte of damage per 64 positions.
  const need = damageAt(n, min) + ((n + 63) >>> 6)
  if (need > m.memory.buffer.byteLength) return null
  const mem = new Uint8Array(m.memory.buffer)
  mem.set(body, BODY_AT)
  mem.fill(0, BODY_AT + n, BODY_AT + n + PAD)
  return m
}

/** One finder over the body `loadedBody` copied in (`n` bytes): its bounds, a view of the module's memory. */
function find(m: RunModule, kind: 'utf8' | 'printable', n: number, min: number): Int32Array {
  const out = boundsAt(n)
  const count = (kind === 'utf8' ? m.utf8_runs : m.printable_runs)(n, min, wordsAt(n), out)
  return new Int32Array(m.memory.buffer, out, count * 2)
}
