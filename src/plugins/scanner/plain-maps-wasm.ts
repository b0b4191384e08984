/**
 * The plain-text pass maps of the pass-text builder (`pass-texts.ts`, `plainPassBytes`) in
 * WebAssembly with 128-bit SIMD (issue 36): the test that a text is plain (tab, LF, CR and
 * printable ASCII) and its leetspeak and vowel-folded bytes, with the same results as the
 * JavaScript loops, which stay the reference (`plain-maps-wasm.test.ts` and the pass-bytes
 * differential tests compare both) and the path when this module is not used.
 *
 * Why WebAssembly: speed. The JavaScript loops read four bytes per step and cost ≈ 15 + 55 µs
 * per 64 KiB text, a sixth of the response check of a 64 KiB page; here sixteen bytes per step
 * (≈ 3 + 15 µs), and the text is written straight into the module's memory, where the pattern
 * sets read the pass bytes without a copy.
 *
 * The source is `plain-maps.wat` beside this file; the bytes below are assembled from it by
 * `node scripts/gen-wasm.mjs` with wabt, a dev dependency (`--check` tells whether they are
 * current). The module is compiled on first use, not at import, once per process.
 *
 * One memory serves every builder of the process (a memory per builder would reserve its own
 * address range; a process may hold many scanners): the text region is leased. The bytes of the
 * last lease taken are the only ones there, and a builder reports another's pass bytes as no
 * longer current once it has written its own (`holds`); their reader then walks the text again.
 */

import {instantiateEmbedded} from './wasm-module.js'

// BEGIN plain-maps.wasm
const MODULE_BASE64 =
  'AGFzbQEAAAABFQNgAn9/AX9gBH9/f38AYAN/f38BfwMFBAABAgIFAwEAQAc6BQZtZW1vcnkCAAlhbGxfcGxhaW4AAAltYXBfYnl0' +
  'ZXMAAQljbGFzc19ydW4AAgljbGFzc19lbmQAAwrlCASQAgICfwV7IAAgAWohAkEg/Q8hBkHeAP0PIQf9DAAAAAAAAAAAAP//AAD/' +
  'AAAhCAJAA0AgAEHAAGogAksNASAA/QAEACIEIAb9cSIFIAUgB/13/SMgCCAE/Q79UCAA/QAEECIEIAb9cSIFIAUgB/13/SMgCCAE' +
  '/Q79UP1OIAD9AAQgIgQgBv1xIgUgBSAH/Xf9IyAIIAT9Dv1QIAD9AAQwIgQgBv1xIgUgBSAH/Xf9IyAIIAT9Dv1Q/U79Tv1jRQRA' +
  'QQAPCyAAQcAAaiEADAALCwJAA0AgACACTw0BIAAtAAAhAyADQSBrQd4ASyADQQlHIANBCkcgA0ENR3FxcQRAQQAPCyAAQQFqIQAM' +
  'AAsLQQELwAICAn8Pe0Eg/QAEACENQTD9AAQAIQ5BwAD9AAQAIQ9BwAH9AAQAIRBB0AH9AAQAIRFB4AH9AAQAIRJB8AH9AAQAIRNB' +
  'EP0PIRQCQANAIARBEGogAUsNASAAIARq/QAEACEGIAZBIP0P/XEhByAHIBT9cSEIIAggFP1xIQkgCSAU/XEhCiAKIBT9cSELIAsg' +
  'FP1xIQwgAiAEaiAGIA0gB/0OIA4gCP0O/VAgDyAJ/Q79UP1R/QsEACADIARqIAYgECAJ/Q4gESAK/Q79UCASIAv9DiATIAz9Dv1Q' +
  '/VD9Uf0LBAAgBEEQaiEEDAALCwJAA0AgBCABTw0BIAAgBGotAAAhBSACIARqIAUgBS0AAEEAIAVBgAFJG3M6AAAgAyAEaiAFIAUt' +
  'AIABQQAgBUGAAUkbczoAACAEQQFqIQQMAAsLC58CAgR/AXsgASEDAkADQCADQRBqIAJLDQEgACADav0ABAAhByAHQSD9D/1QQeEA' +
  '/Q/9cUEZ/Q/9KiAHQTD9D/1xQQn9D/0q/VAgB0Er/Q/9IyAHQS/9D/0j/VAgB0HfAP0P/SMgB0Et/Q/9I/1Q/VD9UP1kIQUgBCAF' +
  'Qf//B3NoakEQTwRAIAMgBGsPCyAEQRBqIAVBEHRBf3NnIAVB//8DRhshBCADQRBqIQMMAAsLAkADQCADIAJPDQEgACADai0AACEG' +
  'IAZBIHJB4QBrQRlNIAZBMGtBCU1yIAZBK0YgBkEvRnIgBkHfAEYgBkEtRnJycgRAIARBAWohBCAEQRBPBEAgA0EBaiAEaw8LBUEA' +
  'IQQLIANBAWohAwwACwtBfwvtAQIDfwF7IAEhAwJAA0AgA0EQaiACSw0BIAAgA2r9AAQAIQYgBkEg/Q/9UEHhAP0P/XFBGf0P/Sog' +
  'BkEw/Q/9cUEJ/Q/9Kv1QIAZBK/0P/SMgBkEv/Q/9I/1QIAZB3wD9D/0jIAZBLf0P/SP9UP1Q/VD9ZCEEIARB//8DRwRAIAMgBEH/' +
  '/wNzaGoPCyADQRBqIQMMAAsLAkADQCADIAJPDQEgACADai0AACEFIAVBIHJB4QBrQRlNIAVBMGtBCU1yIAVBK0YgBUEvRnIgBUHf' +
  'AEYgBUEtRnJyckUEQCADDwsgA0EBaiEDDAALCyACCw=='

// END plain-maps.wasm

/** Where the text region starts (the two delta tables lie below). */
const TEXT_AT = 256
/** The module's memory: 64 pages, never grown (growing detaches the buffer: `run-finder-wasm.ts` says why that matters). */
const MEMORY_BYTES = 64 * 65536

/** The delta rows (16 codes each) the vector steps read: leetspeak 2–4, the fold 4–7 (`plain-maps.wat`). */
const LEET_ROWS = [2, 3, 4]
const FOLD_ROWS = [4, 5, 6, 7]

interface PlainModule {
  readonly memory: {readonly buffer: ArrayBuffer}
  readonly all_plain: (p: number, len: number) => number
  readonly map_bytes: (src: number, len: number, leet: number, fold: number) => void
  readonly class_run: (p: number, from: number, n: number) => number
  readonly class_end: (p: number, from: number, n: number) => number
}

/** The text region of the module's memory, leased to one builder's pass bytes at a time. */
export interface PlainRegion {
  /** The region as bytes: `3 × at` bytes for a text of `len ≤ at` units (text, leetspeak, fold). */
  readonly bytes: Buffer
  /** Takes the region; the number a holder gives to `holds` later. */
  lease(): number
  /** Whether the region still holds what the holder of `lease` wrote. */
  holds(lease: number): boolean
  /** Whether the `len` bytes at the region's start are all plain. */
  allPlain(len: number): boolean
  /**
   * The `len` bytes at the region's start through both maps, written at `at` and `2 × at`: each
   * ASCII byte mapped, any other kept (a plain text, or pass 1 of any text as UTF-8).
   */
  map(len: number, at: number): void
}

let region: PlainRegion | null | undefined
/** The module behind `region` (null until it is loaded). */
let loadedModule: PlainModule | null = null
let tablesOf: {leet: Uint8Array; fold: Uint8Array} | undefined
let enabled = true

/** Tests: false sends every plain text through the JavaScript loops (the reference), true restores. */
export function usePlainMapsWasm(on: boolean): void {
  enabled = on
}

/**
 * The text region for a builder whose maps are `leet` and `fold` (one ASCII byte to one ASCII
 * byte per code), or null: WebAssembly off or unavailable, maps other than those the module was
 * set up with, or maps that change a byte outside the rows its vector steps read.
 */
export function plainRegion(leet: Uint16Array, fold: Uint16Array): PlainRegion | null {
  if (!enabled) return null
  if (region === undefined) region = load(leet, fold)
  if (region === null) return null
  // A builder's tables are compared once (its two arrays remembered), not on every text.
  if (!checked.has(leet) || !checked.has(fold)) {
    if (!sameTables(leet, fold)) return null
    checked.add(leet)
    checked.add(fold)
  }
  return region
}

/** Tables found equal to the module's (`plainRegion`). */
const checked = new WeakSet<Uint16Array>()

/** Whether the region holds `bytes` (a text and its two mapped copies, and pass 2 beside them when apart). */
export function plainRegionHolds(bytes: number): boolean {
  return TEXT_AT + bytes <= MEMORY_BYTES
}

function sameTables(leet: ArrayLike<number>, fold: ArrayLike<number>): boolean {
  for (let c = 0; c < 128; c++) if (leet[c] !== tablesOf!.leet[c] || fold[c] !== tablesOf!.fold[c]) return false
  return true
}

function load(leet: ArrayLike<number>, fold: ArrayLike<number>): PlainRegion | null {
  const m = instantiateEmbedded<PlainModule>(MODULE_BASE64)
  // No WebAssembly (or no SIMD): the JavaScript loops give the same bytes.
  if (m === null) return null
  loadedModule = m
  tablesOf = {leet: Uint8Array.from({length: 128}, (_, c) => leet[c]!), fold: Uint8Array.from({length: 128}, (_, c) => fold[c]!)}
  const mem = Buffer.from(m.memory.buffer)
  for (let c = 0; c < 128; c++) {
    const l = tablesOf.leet[c]! ^ c
    const f = tablesOf.fold[c]! ^ c
    // Every map sends ASCII to ASCII; a delta outside the rows the vector steps read would be missed there.
    if (tablesOf.leet[c]! > 0x7f || tablesOf.fold[c]! > 0x7f) return null
    if ((l !== 0 && !LEET_ROWS.includes(c >> 4)) || (f !== 0 && !FOLD_ROWS.includes(c >> 4))) return null
    mem[c] = l
    mem[128 + c] = f
  }
  const bytes = mem.subarray(TEXT_AT)
  let owner = 0
  const r: PlainRegion = {
    bytes,
    lease: () => ++owner,
    holds: (lease) => lease === owner,
    allPlain: (len) => m.all_plain(TEXT_AT, len) === 1,
    map: (len, at) => m.map_bytes(TEXT_AT, len, TEXT_AT + at, TEXT_AT + 2 * at),
  }
  return selfCheck(r) ? r : null
}

/**
 * Every plain code, then every byte value, through both maps in vector steps and in the tail,
 * against the tables; one code that is not plain refused. The generator checks the functions on every byte; this checks
 * the instance this process compiled, once (a few microseconds).
 */
function selfCheck(r: PlainRegion): boolean {
  const codes = [0x09, 0x0a, 0x0d, ...Array.from({length: 0x5f}, (_, k) => 0x20 + k)]
  const len = codes.length
  const at = (len + 15) & ~15
  r.bytes.set(codes, 0)
  if (!r.allPlain(len)) return false
  r.map(len, at)
  for (let k = 0; k < len; k++) if (r.bytes[at + k] !== tablesOf!.leet[codes[k]!] || r.bytes[2 * at + k] !== tablesOf!.fold[codes[k]!]) return false
  // Every byte value, in vector steps and in the tail: the ASCII ones mapped, the others kept.
  const all = Array.from({length: 259}, (_, k) => k & 0xff)
  const at2 = (all.length + 15) & ~15
  r.bytes.set(all, 0)
  r.map(all.length, at2)
  const mapped = (t: Uint8Array, b: number): number => (b < 128 ? t[b]! : b)
  for (let k = 0; k < all.length; k++) if (r.bytes[at2 + k] !== mapped(tablesOf!.leet, all[k]!) || r.bytes[2 * at2 + k] !== mapped(tablesOf!.fold, all[k]!)) return false
  r.bytes.set(codes, 0)
  r.bytes[len >> 1] = 0x7f
  return !r.allPlain(len)
}

/**
 * Whether `units` lies in the module's memory (a plain text's pass bytes: `PlainRegion.bytes`),
 * so that `classRun` can read it where it is.
 */
export function inPlainMemory(units: Uint8Array): boolean {
  return loadedModule !== null && units.buffer === loadedModule.memory.buffer
}

/**
 * For `units` in the module's memory (`inPlainMemory`): the first i in [from, n) such that the
 * sixteen units from i are all in base64's class `[A-Za-z0-9+/_-]`, or -1 — where `base64Runs`'
 * window search (b64-runs.ts) stops next.
 */
export function classRun(units: Uint8Array, from: number, n: number): number {
  return loadedModule!.class_run(units.byteOffset, from, n)
}

/**
 * For `units` in the module's memory (`inPlainMemory`): the first i in [from, n) whose unit is
 * outside base64's class `[A-Za-z0-9+/_-]`, or n — where a run `classRun` found ends.
 */
export function classEnd(units: Uint8Array, from: number, n: number): number {
  return loadedModule!.class_end(units.byteOffset, from, n)
}
