/**
 * The visible-text walk of `html-text.ts` (`PageTextReader`) in WebAssembly (issue 36): the same
 * text, title place and cut-reference answer as the JavaScript walk, which stays the reference
 * (html-text-differential.test.ts runs every case on both) and the path for the pages this module
 * is not used for.
 *
 * Why WebAssembly: speed. The JavaScript walk costs ≈ 2.2 ns a code unit (≈ 145 µs per 64 KiB
 * page, a fifth of the response check of an HTML page); here ≈ 66 µs, text runs and searches
 * read eight units at a time.
 *
 * The source is `html-text.wat` beside this file (its memory layout and steps are commented
 * there); the bytes below are assembled from it by `node scripts/gen-wasm.mjs` with wabt, a dev
 * dependency (`--check` tells whether they are current). The module is compiled on first use,
 * once per process, and its memory (66 pages, backed only where written) never grows: growing
 * detaches the old buffer, and `run-finder-wasm.ts` says what that costs. The walk is synchronous
 * and its text is made a string before the reader returns, so one memory serves every reader.
 */
import {LITTLE_ENDIAN} from './normalize.js'
import {instantiateEmbedded} from './wasm-module.js'

// BEGIN html-text.wasm
const MODULE_BASE64 =
  'AGFzbQEAAAABKQZgAX8Bf2ADf39/AX9gAn9/AX9gA39/fgF/YAN/f38BfmAEf39/fwF/AwsKAAAAAQIDAgIEBQUDAQBCBhADfwFB' +
  'fwt/AUF/C38BQQALBzUFBm1lbW9yeQIACnRpdGxlX2Zyb20DAAh0aXRsZV90bwMBBnRpdGxlcwMCB3Zpc2libGUACQr1FAplACAA' +
  'QSBNBEAgAEEgRiAAQQlrQQRNcg8LIABBgC1JBEAgAEGgAUYPCyAAQYAtRiAAQYDAAGtBCk0gAEGowABrQQFNcnIgAEGvwABGIABB' +
  '38AARnIgAEGA4ABGIABB//0DRnJycgshACAAQcEAa0EZTQRAIABBIHIPC0HrACAAIABBqsIARhsLMQEBfyAAQTBrQQlNBEAgAEEw' +
  'aw8LIABBIHIhASABQeEAa0EFTQRAIAFB1wBrDwtBfwtpAgF7AX8gAv0QIQMCQANAIABBEGogAUsNASAA/QAEACAD/S39hAEhBCAE' +
  'BEAgACAEaEEBdGoPCyAAQRBqIQAMAAsLAkADQCAAIAFPDQEgAC8BACACRgRAIAAPCyAAQQJqIQAMAAsLQX8LRQADQCAAIAFBLRAD' +
  'IQAgAEEASCAAQQZqIAFLcgRAQX8PCyAALwECQS1GIAAvAQRBPkZxBEAgAA8LIABBAmohAAwAC0F/C8MBAQV/QaAkIQMDQCACQiWC' +
  'pyEFIAJCJYAhAiADQQJrIQMgAyAFQeAAaiAFQRVqIAVBGk0bOwEAIAJCAFINAAtBoCQgA2shBANAIAAgAUE8EAMhACAAQQBIIABB' +
  'BGogAUtyBEBBfw8LIAAvAQJBL0YEQEEAIQYgAEEEaiEHAkADQCAGIARPDQEgBy8BABABIAMgBmovAQBHDQEgBkECaiEGIAdBAmoh' +
  'BwwACwsgBiAERgRAIAAPCwsgAEECaiEADAALQX8LkgQBB38gAEECaiECIAIgAU8EQEF/DwsgAi8BAEEjRgRAIAJBAmohAiACLwEA' +
  'IQcgB0EgckH4AEYEQCACQQJqIQIgAiEDAkADQCACIAFPDQEgAiADa0EOTw0BIAIvAQAQAiEFIAVBAEgNASAEQQR0IAVqIQQgAkEC' +
  'aiECDAALCyACIANrIQggCEECSSAIQQxLcgRAQX8PCwUgAiEDAkADQCACIAFPDQEgAiADa0EQTw0BIAIvAQAhBiAGQTBrQQlLDQEg' +
  'BEEKbCAGQTBraiEEIAJBAmohAgwACwsgAiADayEIIAhBAkkgCEEOS3IEQEF/DwsLIAIgAU8EQEF/DwsgAi8BAEE7RwRAQX8PCyAE' +
  'QQBMIARB///DAEpyBEBBfw8LBSACIQMCQANAIAIgAU8NASACIANrQRJPDQEgAi8BAEEgciEGIAZB4QBrQRlLDQEgBEEFdCAGQeAA' +
  'a2ohBCACQQJqIQIMAAsLIAIgA2shCCAIQQRJIAhBCEtyBEBBfw8LIAIgAU8EQEF/DwsgAi8BAEE7RwRAQX8PCwJAAkAgBEGwC0YE' +
  'QEEmIQQMAgsgBEGUA0YEQEE8IQQMAgsgBEH0AUYEQEE+IQQMAgsgBEH0qyNGBEBBIiEEDAILIARB84MDRgRAQSchBAwCCyAEQfCU' +
  'HEYEQEEgIQQMAgsMAAtBfw8LCyAEQQR0IAJBAmogAGtBAXZqC2EBA38gAEECaiECAkADQCACIAFPDQEgAiAAQRRqSw0BIAIvAQAh' +
  'AyADQTxGBEBBAQ8LIANBIHIhBCADQSNGIANBMGtBCU0gBEHhAGtBGU1yckUNASACQQJqIQIMAAsLQQAL2QECA38BfiAAQQJqIQMg' +
  'Ay8BAEEvRgRAIANBAmohAwsCQANAIAMgAU8NASADLwEAIQUgBUEha0H/AEkNASAFEABFDQEgA0ECaiEDDAALCyADIQQCQANAIAMg' +
  'Ak8NASADLwEAIQUgBUHBAGtBGU0EQCAFQSByIQUFIAVBqsIARgRAQesAIQULCyAFQeEAa0EZTQRAIAVB4ABrIQUFIAVBFWtBACAF' +
  'QTBrQQlNGyEFCyAFRQ0BIAMgBGtBFEYEQEIADwsgBkIlfiAFrXwhBiADQQJqIQMMAAsLIAYL8gkECX8BfgV/CHtBIf0QIRVB3QD9' +
  'ECEWQTz9ECEXQSb9ECEYQSD9ECEZQT79ECEaIAAhBCAAIAFBAXRqIQUgAiEGIAIhD0F/JABBfyQBQQAkAgJAA0AgBCAFTw0BIAQv' +
  'AQAhBwJAIAdBPEYEQCAEIQkgCSkDAkL///////8/g0KhgLSB0AVRBEAgCUEIaiAFEAQhDiAFIA5BBmogDkEASBshBAwDCyAJQQJq' +
  'IQogCUHAAGohCyALIAVLBEAgBSELCwJAA0AgCiALTw0BIAr9AAQAIBr9Lf2EASEOIA4EQCAKIA5oQQF0aiEKDAILIApBEGohCgwA' +
  'CwsgCiALTwRAIAsgBUE+EAMhCgsgCkEASA0DIApBAmohDiAOIAlB0ABqSwRAIAlB0ABqIQ4LIAkgBSAOEAghDUEAIQwgDUIAUgRA' +
  'IA2nQbHz3fF5bCADdiEOIA5BA3QpAwAgDVEEQCAOLQCAICEMCwsgCS8BAkEvRwRAIAxBA0YEQCAKQQJqIAUgDRAFIQ4gDkEATgRA' +
  'IA4gBUE+EAMhDgsgBSAOQQJqIA5BAEgbIQQMBAsgDEECRgRAIApBAmogBSANEAUhDiMCRQRAIApBAmokACAFIA4gDkEASBskAQsj' +
  'AkEBaiQCIA5BAE4EQCAOIAVBPhADIQ4LIAUgDkECaiAOQQBIGyEEDAQLCyAKQQJqIQQgDEEBRw0CIBAEQCAPIQYLQQAhEEEAIRIM' +
  'AgsgB0EmRgRAIAQgBRAGIQ4gDkEASARAIAQgBRAHBEBBfw8LIARBAmohBAUgBCAOQQ9xQQF0aiEEIA5BBHYhBwsMAQsgB0Eha0Hd' +
  'AE0gB0E8RyAHQSZHcXEEQCAQRQRAIBEEQCAGQQo7AQAgBkECaiEGC0EBIRBBASERCyAGIAc7AQAgBkECaiEGAkADQCAEQRJqIAVN' +
  'BEAgBP0ABAIhEyAE/QAEBCEUIAYgE/0LBAAgEyAV/ZEBIBb9NCATIBf9Lf1PIBMgGP0t/U8gEyAZ/S0gFCAV/ZEBIBb9NCAUIBf9' +
  'Lf1PIBQgGP0t/U/9Tv1Q/YQBIQ4gDkH/AUYEQCAGQRBqIQYgBEEQaiEEDAILIA5B/wFzaEEBdCEOIAYgDmohBiAEIA5qQQJqIQQM' +
  'AgsgBEECaiEEIAQvAQAhByAHQSFrQd0ATSAHQTxHIAdBJkdxcQRAIAYgBzsBACAGQQJqIQYMAQsgB0EgRw0BIAQvAQIhCCAIQSFr' +
  'Qd0ATSAIQTxHIAhBJkdxcUUNASAGQSAgCEEQdHI2AgAgBkEEaiEGIARBAmohBAwACwtBACESIAYhDwwCCyAEQQJqIQQLIAdBIWtB' +
  '3QBNBH9BAQUgB0EgTQR/IAdBIEYgB0EJa0EETXJFBSAHEABFCwsEQCAQRQRAIBEEQCAGQQo7AQAgBkECaiEGC0EBIRBBASERCyAH' +
  'QYCABEkEQCAGIAc7AQAgBkECaiEGBSAHQYCABGshByAGQYCwAyAHQQp2ajsBACAGQYC4AyAHQf8HcWo7AQIgBkEEaiEGC0EAIRIg' +
  'BiEPDAELIAdBCkYEQCAQBEAgDyEGC0EAIRBBACESDAELIBBFDQAgB0EgRiAHQQlGciAHQQtrQQJNcgRAIBJFBEAgBkEgOwEAIAZB' +
  'AmohBgtBASESBSAGIAc7AQAgBkECaiEGQQAhEgsMAAsLIA8gBiAQGyACa0EBdgs='

// END html-text.wasm

/** Where the page's units are written (the tag table and the scratch lie below). */
const SRC_AT = 8192
/** The 0 units after the page (`html-text.ts` PAD): names and references read past its end stop at them. */
const PAD = 4
/** The largest page (in code units) the module reads; larger ones take the JavaScript walk. */
const MAX_UNITS = 1 << 20
/** Where the text is written: after the page's region. */
const OUT_AT = SRC_AT + 2 * (MAX_UNITS + PAD)
/** The most table slots the module's key region holds (4096 bytes of i64 keys). */
const MAX_SLOTS = 512

interface HtmlModule {
  readonly memory: {readonly buffer: ArrayBuffer}
  readonly visible: (src: number, n: number, out: number, shift: number) => number
  readonly title_from: {readonly value: number}
  readonly title_to: {readonly value: number}
  readonly titles: {readonly value: number}
}

/** The tag table of `html-text.ts`: slot keys (0: empty), kinds, and the hash's shift. */
export interface TagTableData {
  readonly shift: number
  readonly keys: Float64Array
  readonly kinds: Uint8Array
}

/** One walk's answer: the text's length, and where the first title's text is (units of the page). */
export interface HtmlWalk {
  /** Units written from `room` on in `out`, or -1: a reference is cut by a tag (read the page the long way). */
  readonly length: number
  /** How many `<title>` elements the walk met, and the first one's text as [from, to) of the page. */
  readonly titles: number
  readonly titleFrom: number
  readonly titleTo: number
}

/** The module set up with a tag table. */
export interface HtmlTextModule {
  /** The text region: `room` units, then the text `walk` writes. Valid until the next walk. */
  readonly out: Uint16Array
  /** The most units a page may have, and the most room a walk may leave in front of its text. */
  readonly maxUnits: number
  readonly maxRoom: number
  /** The visible text of `html` (at most `maxUnits` units, no U+0130) from `room` on in `out`. */
  walk(html: string, room: number): HtmlWalk
}

let loaded: HtmlTextModule | null | undefined
let enabled = true

/** Tests: false sends every page through the JavaScript walk (the reference), true restores. */
export function useHtmlTextWasm(on: boolean): void {
  enabled = on
}

/** Tests: the module as loaded (null: unavailable; undefined: not loaded yet). */
export function loadedHtmlTextModule(): HtmlTextModule | null | undefined {
  return loaded
}

/**
 * The module with `table` written into its memory, or null: WebAssembly off or unavailable, or a
 * table larger than its key region. The first table given is the one kept: html-text.ts has one.
 */
export function htmlTextModule(table: TagTableData): HtmlTextModule | null {
  if (!enabled) return null
  if (loaded === undefined) loaded = load(table)
  return loaded
}

function load(table: TagTableData): HtmlTextModule | null {
  const slots = table.keys.length
  if (slots > MAX_SLOTS || 1 << (32 - table.shift) !== slots || !LITTLE_ENDIAN) return null
  const m = instantiateEmbedded<HtmlModule>(MODULE_BASE64)
  if (m === null) return null
  const keys = new BigInt64Array(m.memory.buffer, 0, slots)
  const kinds = new Uint8Array(m.memory.buffer, 4096, slots)
  for (let s = 0; s < slots; s++) {
    keys[s] = BigInt(table.keys[s]!)
    kinds[s] = table.kinds[s]!
  }
  const bytes = Buffer.from(m.memory.buffer)
  // The walk stores eight units at a time, up to seven past the text it keeps.
  const maxRoom = (bytes.length - OUT_AT) / 2 - MAX_UNITS - 8
  const out = new Uint16Array(m.memory.buffer, OUT_AT, maxRoom + MAX_UNITS)
  const shift = table.shift
  return {
    out,
    maxUnits: MAX_UNITS,
    maxRoom,
    walk(html, room) {
      const n = html.length
      bytes.write(html, SRC_AT, 2 * n, 'utf16le')
      bytes.fill(0, SRC_AT + 2 * n, SRC_AT + 2 * (n + PAD))
      const length = m.visible(SRC_AT, n, OUT_AT + 2 * room, shift)
      const titles = m.titles.value
      return {
        length,
        titles,
        titleFrom: titles === 0 ? 0 : (m.title_from.value - SRC_AT) / 2,
        titleTo: titles === 0 ? 0 : (m.title_to.value - SRC_AT) / 2,
      }
    },
  }
}
