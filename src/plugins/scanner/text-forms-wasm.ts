/**
 * Text DLP's dot-free and white-space-free forms of a long ASCII text (`text-dlp.ts`,
 * `asciiDotAndSpaceFree`) in WebAssembly with 128-bit SIMD (issue 36): the same bytes as the
 * JavaScript loop, which stays the reference (text-forms-wasm.test.ts compares them) and the
 * path when this module is not used.
 *
 * Why WebAssembly: speed. The JavaScript loop reads and writes every byte (≈ 125 µs per 64 KiB
 * request body, for each text a request scan reads); here most blocks of sixteen bytes are copied
 * to one form or both at once.
 *
 * The source is `text-forms.wat` beside this file; the bytes below are assembled from it by
 * `node scripts/gen-wasm.mjs` with wabt, a dev dependency (`--check` tells whether they are
 * current). The module is compiled on first use, once per process; its memory (3 MiB, backed
 * only where written) never grows (`run-finder-wasm.ts` says why).
 */
import {instantiateEmbedded} from './wasm-module.js'

// BEGIN text-forms.wasm
const MODULE_BASE64 =
  'AGFzbQEAAAABCQFgBH9/f38BfwMCAQAFAwEAMAYGAX8BQQALBx8DBm1lbW9yeQIACnNwYWNlX2ZyZWUDAAVmb3JtcwAACpQCAZEC' +
  'AwV/A3sBfyAAIAFqIQQgAiEFIAMhBkEu/Q8hCkEg/Q8hCwJAA0AgAEEQaiAESw0BIAD9AAQAIQkgCSAK/SP9U0UhDCAMBEAgBSAJ' +
  '/QsEACAFQRBqIQUgCSAL/Sf9YwRAIAYgCf0LBAAgBkEQaiEGIABBEGohAAwCCwsgAEEQaiEIA0AgAC0AACEHIAxFBEAgBSAHOgAA' +
  'IAUgB0EuR2ohBQsgBiAHOgAAIAYgBy0AAGohBiAAQQFqIQAgACAISQ0ACwwACwsCQANAIAAgBE8NASAALQAAIQcgBSAHOgAAIAUg' +
  'B0EuR2ohBSAGIAc6AAAgBiAHLQAAaiEGIABBAWohAAwACwsgBiADayQAIAUgAmsL'

// END text-forms.wasm

/** Where the text is written (the white-space table lies below). */
const TEXT_AT = 256
/** The module's memory: 48 pages. */
const MEMORY_BYTES = 48 * 65536
/** A form may be written up to this many bytes past its end. */
const SLACK = 16

interface FormsModule {
  readonly memory: {readonly buffer: ArrayBuffer}
  readonly forms: (src: number, len: number, dots: number, spaces: number) => number
  readonly space_free: {readonly value: number}
}

/** The forms of one text, as views of the module's memory: valid until the next call. */
export interface TextForms {
  readonly noDots: Buffer
  readonly noSpace: Buffer
}

/** Makes the forms of an ASCII text of at most `maxLength` units. */
export interface FormsWriter {
  readonly maxLength: number
  forms(s: string): TextForms
}

let loaded: FormsWriter | null | undefined
let enabled = true

/** Tests: false sends every text through the JavaScript loop (the reference), true restores. */
export function useTextFormsWasm(on: boolean): void {
  enabled = on
}

/**
 * The module set up with `keep` (1 for each ASCII code the white-space-free form keeps, 0 for
 * one it drops), or null: WebAssembly off or unavailable, or a table that drops a code above
 * 0x20 (the module's block test reads only bytes at or below 0x20 as white space). The first
 * table given is the one kept: text-dlp.ts has one.
 */
export function textFormsWriter(keep: ArrayLike<number>): FormsWriter | null {
  if (!enabled) return null
  if (loaded === undefined) loaded = load(keep)
  return loaded
}

function load(keep: ArrayLike<number>): FormsWriter | null {
  for (let c = 0x21; c < 0x80; c++) if (keep[c] !== 1) return null
  const m = instantiateEmbedded<FormsModule>(MODULE_BASE64)
  if (m === null) return null
  const bytes = Buffer.from(m.memory.buffer)
  for (let c = 0; c < 0x80; c++) bytes[c] = keep[c] === 1 ? 1 : 0
  return {
    maxLength: Math.floor((MEMORY_BYTES - TEXT_AT - 3 * SLACK) / 3),
    forms(s) {
      const n = s.length
      bytes.write(s, TEXT_AT, n, 'latin1')
      const dots = TEXT_AT + n + SLACK
      const spaces = dots + n + SLACK
      const d = m.forms(TEXT_AT, n, dots, spaces)
      return {noDots: bytes.subarray(dots, dots + d), noSpace: bytes.subarray(spaces, spaces + m.space_free.value)}
    },
  }
}
