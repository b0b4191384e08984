/**
 * Text DLP's dot-free and white-space-free forms (step 5 of runtime §6.1) of a text holding a
 * unit at or above U+0080, written as UTF-8 bytes (issue 36). The string forms cost a split and
 * join, a copy of the units compacted and read back, and then a UTF-8 encoding of each form for
 * the set walk: on a 64 KiB Cyrillic request body, about half the time of the two walks again,
 * and on a binary body's text runs a fifth of their text DLP. Here the text is encoded once and
 * both forms compacted from its bytes in one pass.
 *
 * Exact: UTF-8 encodes a sequence of code points one by one, so dropping the code points U+002E,
 * or the white-space ones, from the text drops exactly their byte sequences from its encoding —
 * as long as every unit of the text is a code point. A lone surrogate is not (it encodes as
 * U+FFFD, and dropping a dot between a lone high and a lone low surrogate makes a pair of them
 * in the string form, one code point). A text whose encoding holds U+FFFD is therefore left to
 * the string forms (null): U+FFFD in the encoding is either the character itself or a lone
 * surrogate, and either way the string path is the reference.
 */

/**
 * Go's `unicode.IsSpace`: the code points text DLP's white-space strip drops (`stripUnicodeWhitespace`
 * and the forms here), all in the BMP and outside the surrogates.
 */
export function isSpaceCodePoint(cp: number): boolean {
  return (
    (cp >= 0x09 && cp <= 0x0d) || cp === 0x20 || cp === 0x85 || cp === 0xa0 || cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000
  )
}

/** Per byte below 0x80: 1 kept in the white-space-free form, 0 dropped. */
const KEEP_ASCII = Uint8Array.from({length: 128}, (_, c) => (isSpaceCodePoint(c) ? 0 : 1))

/** U+FFFD in UTF-8. */
const REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd])

/** Reused between calls (single-threaded; not kept above 1 MiB). */
let scratch: Buffer | null = null

/** The forms as views of one scratch buffer: valid until the next call. */
export interface Utf8Forms {
  /** The text's own UTF-8 length (a form this long dropped nothing). */
  readonly length: number
  readonly noDots: Buffer
  readonly noSpace: Buffer
}

/**
 * The UTF-8 bytes of `s.split('.').join('')` and of `stripUnicodeWhitespace(s)`, or null when
 * `s` may hold a lone surrogate (its encoding holds U+FFFD: see above).
 */
export function utf8DotAndSpaceFree(s: string): Utf8Forms | null {
  // Each UTF-16 unit takes at most three bytes; the text and its two forms each get that much.
  const room = 3 * s.length
  let b = scratch
  if (b === null || b.length < 3 * room) b = Buffer.allocUnsafeSlow(3 * room)
  if (b.length <= 1 << 20) scratch = b
  const n = b.write(s, 0, room, 'utf8')
  const text = b.subarray(0, n)
  if (text.indexOf(REPLACEMENT) >= 0) return null
  writeForms(b, n, room)
  return {length: n, noDots: b.subarray(room, dotFreeEnd), noSpace: b.subarray(2 * room, spaceFreeEnd)}
}

/** Where `writeForms` ended each form (module state, read right after the call). */
let dotFreeEnd = 0
let spaceFreeEnd = 0

/**
 * Writes the forms of the `n` bytes at the start of `b`: the dot-free one from `room`, the
 * white-space-free one from `2 × room`. The loop is the whole function and its ends are stored,
 * not computed with: V8 compiles a long loop while it runs (OSR), before any code after it has
 * run, and compiled code reaching such code falls back to the interpreter — on every call.
 */
function writeForms(b: Buffer, n: number, room: number): void {
  let d = room
  let w = 2 * room
  let i = 0
  while (i < n) {
    const c = b[i]!
    if (c < 0x80) {
      b[d] = c
      d += c === 0x2e ? 0 : 1
      b[w] = c
      w += KEEP_ASCII[c]!
      i++
    } else if (c < 0xe0) {
      // Two bytes (the encoder's output is well formed: the lead byte gives the length): white
      // space only as U+0085 or U+00A0.
      const c1 = b[i + 1]!
      b[d] = c
      b[d + 1] = c1
      d += 2
      if (c !== 0xc2 || (c1 !== 0x85 && c1 !== 0xa0)) {
        b[w] = c
        b[w + 1] = c1
        w += 2
      }
      i += 2
    } else if (c < 0xf0) {
      const c1 = b[i + 1]!
      const c2 = b[i + 2]!
      b[d] = c
      b[d + 1] = c1
      b[d + 2] = c2
      d += 3
      // Every other white-space code point takes three bytes, led by E1, E2 or E3.
      if (c > 0xe3 || c < 0xe1 || !isSpaceCodePoint(((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f))) {
        b[w] = c
        b[w + 1] = c1
        b[w + 2] = c2
        w += 3
      }
      i += 3
    } else {
      // Four bytes: a code point past the BMP, never white space.
      for (let k = 0; k < 4; k++) {
        b[d++] = b[i + k]!
        b[w++] = b[i + k]!
      }
      i += 4
    }
  }
  dotFreeEnd = d
  spaceFreeEnd = w
}
