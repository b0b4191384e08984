/**
 * The text of a body for the injection and DLP scans, read from its bytes whatever its label
 * (issue 36): a body that is valid UTF-8 is its UTF-8 reading, as before; any other body is read
 * through its text runs — the maximal stretches of well-formed UTF-8 of at least
 * `MIN_TEXT_RUN` bytes (control bytes included: the normaliser drops them or reads them as
 * spaces, as in any text), joined by one space. Binary noise between two runs is a word break,
 * so an injection cut into runs by noise reads whole; a stretch shorter than `MIN_TEXT_RUN`
 * bytes between two invalid bytes is not text (random bytes are full of them). Where stray bytes
 * are few — at most one in four of a 64-byte word — the stretch is read as spoilt text besides
 * (`spoiltText`), so such bytes cannot hide the short words between them.
 *
 * Decoding a random 64 KiB body as UTF-8 alone cost more than scanning it (≈ 37 MB/s: every
 * invalid byte becomes a U+FFFD in a two-byte string). Here a real binary body costs one pass
 * that mostly skips: a run of `MIN_TEXT_RUN` bytes has every adjacent byte pair well formed, so
 * the pass probes the last pairs of a window and, on an ill-formed pair, jumps past it
 * (Boyer–Moore style); only a window whose pairs are all well formed is read byte by byte.
 * That loop is the reference; bodies from 256 bytes to 1 MiB go through the same walk in
 * WebAssembly (`run-finder-wasm.ts`: the pairs classified sixteen at a time, the windows found in
 * bit words), about four times faster on random bytes.
 */
// Read off the module object rather than imported by name: an ESM import of node:buffer builds its
// whole namespace, which loads Node's File and Blob internals into the MCP wrap's start after its
// V8 flags are set (compiled from source then; test/e2e/startup-laziness.test.ts).
const {isAscii, isUtf8, transcode} = process.getBuiltinModule('node:buffer') as typeof import('node:buffer')
import {wasmBothRunBounds, wasmRunBounds} from './run-finder-wasm.js'

/** Fewest bytes of well-formed UTF-8 between two invalid bytes that count as text. */
export const MIN_TEXT_RUN = 12

/**
 * PAIR_OK[x << 8 | y]: 1 when byte y may follow byte x inside well-formed UTF-8 (a necessary
 * condition: a continuation after an ASCII byte, a non-continuation after a lead byte, the
 * bytes never used (C0, C1, F5–FF) and the overlong / surrogate / out-of-range second bytes
 * after E0, ED, F0 and F4 are ill formed).
 */
const PAIR_OK: Uint8Array = (() => {
  const t = new Uint8Array(65536)
  const never = (b: number): boolean => b === 0xc0 || b === 0xc1 || b >= 0xf5
  for (let x = 0; x < 256; x++) {
    for (let y = 0; y < 256; y++) {
      let ok = !never(x) && !never(y)
      const cont = y >= 0x80 && y <= 0xbf
      if (x < 0x80) ok &&= !cont
      else if (x >= 0xc2) {
        ok &&= cont
        if (x === 0xe0) ok &&= y >= 0xa0
        if (x === 0xed) ok &&= y <= 0x9f
        if (x === 0xf0) ok &&= y >= 0x90
        if (x === 0xf4) ok &&= y <= 0x8f
      }
      t[(x << 8) | y] = ok ? 1 : 0
    }
  }
  return t
})()

/** LEAD_LENGTH[b]: the length of the UTF-8 sequence lead byte `b` starts (1 for ASCII, 0: never a lead). */
const LEAD_LENGTH: Uint8Array = Uint8Array.from({length: 256}, (_, b) => (b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0))

/** Bodies shorter than this are read by the JavaScript loop: the module's call and copy cost more. */
const WASM_FROM = 256

/**
 * The most damaged bytes (`damageCounts`) a word of 64 bytes may hold and still be read as text
 * with some bytes spoilt (`spoiltText`): one in four, so that a stray byte between every two
 * words, or inside every word, is within it. About 60 % of the bytes of random and compressed data
 * are damage; a word of them at or under 16 is a one-in-a-billion event, and the repeating
 * stretches of highly compressed text that hold fewer bytes ≥ 0x80 hold control bytes.
 */
export const DAMAGE_MAX = 16

/**
 * DAMAGE[b]: 1 for the bytes that are damage: ≥ 0x80, DEL, and the control bytes but NUL, tab, LF
 * and CR (NUL pads text that is otherwise whole, and is read as it is by the text runs).
 */
const DAMAGE: Uint8Array = Uint8Array.from({length: 256}, (_, b) => (b >= 0x7f || (b < 0x20 && b !== 0x00 && b !== 0x09 && b !== 0x0a && b !== 0x0d) ? 1 : 0))

/**
 * The damage of each 64 bytes of `body` (word j: bytes 64j … 64j + 63 below its length): its
 * bytes in `DAMAGE` — or, when its bytes ≥ 0x80 alone are more than `max`, their number (the word
 * is too damaged either way, and counting the controls is most of the work: random bytes are
 * half bytes ≥ 0x80). In ASCII text the damage is the stray bytes (and the letters of a Latin-1
 * text); a word without any is ASCII, read whole by the text runs. The reference of the
 * WebAssembly `damage` (which the finders call with the body already copied in) and the path for
 * the bodies that module does not take.
 */
export function damageCounts(body: Uint8Array, max = DAMAGE_MAX): Uint8Array {
  const counts = new Uint8Array((body.length + 63) >>> 6)
  for (let j = 0; j < counts.length; j++) {
    const end = Math.min(body.length, 64 * (j + 1))
    let high = 0
    for (let p = 64 * j; p < end; p++) high += body[p]! >>> 7
    if (high > max) {
      counts[j] = high
      continue
    }
    let damage = 0
    for (let p = 64 * j; p < end; p++) damage += DAMAGE[body[p]!]!
    counts[j] = damage
  }
  return counts
}

/**
 * The stretches of `body` read as spoilt text, as (start, end) byte pairs: each 64-byte word
 * damaged, but at most `DAMAGE_MAX` bytes of 64 (pro rata for a last, shorter word), with the
 * words on either side (a phrase that runs on into a noisier or a clean word); overlapping
 * stretches are one. A word without damage is not read for itself: its text is in the text runs.
 */
export function spoiltBounds(counts: ArrayLike<number>, n: number): number[] {
  const bounds: number[] = []
  for (let j = 0; j < counts.length; j++) {
    const d = counts[j]!
    if (d === 0 || d * 64 > DAMAGE_MAX * Math.min(64, n - 64 * j)) continue
    const a = Math.max(0, j - 1) * 64
    const b = Math.min(n, (j + 2) * 64)
    if (bounds.length > 0 && bounds[bounds.length - 1]! >= a) bounds[bounds.length - 1] = b
    else bounds.push(a, b)
  }
  return bounds
}

/**
 * The spoilt text of a body that is not valid UTF-8: the stretches `spoiltBounds` finds, each read
 * as UTF-8 with its ill-formed sequences removed, joined by one space ('' when there are none).
 * Text runs alone miss a phrase whose words a stray byte parts into pieces under `MIN_TEXT_RUN`
 * bytes (`Ignore all\xffprevious\xffinstructions`), which a reader that shows U+FFFD, or drops
 * it, still reads as the phrase; here it reads `Ignore allpreviousinstructions`, which the
 * optional-whitespace pass of the injection scan matches, and a key cut by a stray byte is whole
 * again for DLP. Random and compressed bytes have no such stretch, so a binary body pays the count
 * alone. Not read here: short pieces in words an attacker fills with more noise than text, and
 * text whose letters are all bytes ≥ 0x80 (Cyrillic, Greek, CJK) parted by stray bytes.
 *
 * `runs` are the body's text-run bounds, in order: a stretch whose reading is exactly one text
 * run it holds is not read again (issue 36): the stray bytes it was taken for only bounded
 * that run, so nothing was parted, and the run is in the text runs already. A body of every
 * byte value in turn (0x00–0xff, again and again) read each of its ASCII runs twice without this.
 * A stretch that reads as nothing is left out too.
 */
export function spoiltText(body: Uint8Array, counts: ArrayLike<number>, runs: ArrayLike<number>): string {
  const bounds = spoiltBounds(counts, body.length)
  if (bounds.length === 0) return ''
  let size = 0
  for (let k = 0; k < bounds.length; k += 2) size += bounds[k + 1]! - bounds[k]! + 1
  const out = Buffer.allocUnsafe(size)
  let o = 0
  let r = 0
  for (let k = 0; k < bounds.length; k += 2) {
    const a = bounds[k]!
    const b = bounds[k + 1]!
    const from = o === 0 ? 0 : o + 1
    const end = keptSequences(body, a, b, out, from)
    if (end === from) continue
    // The runs wholly inside [a, b): the piece is dropped when it is the only one, byte for byte.
    while (r < runs.length && runs[r]! < a) r += 2
    let inside = r
    while (inside < runs.length && runs[inside + 1]! <= b) inside += 2
    if (inside === r + 2 && out.compare(body, runs[r]!, runs[r + 1]!, from, end) === 0) continue
    if (from > 0) out[o] = 0x20
    o = end
  }
  return out.toString('utf8', 0, o)
}

/**
 * Writes the well-formed UTF-8 sequences of `body[a, b)` to `out` from `o`, in order, but the
 * encoded U+FFFD (`EF BF BD`); returns where the writing ended. The same text as that slice's
 * `toString('utf8')` with every U+FFFD removed: the decoder turns each maximal ill-formed piece
 * into one U+FFFD and resumes at the byte that broke it, which no byte of the piece could start a
 * sequence before (they are continuation bytes), so skipping a byte at a time finds the same
 * sequences; a sequence cut by `b` is ill-formed in the slice too. Read byte by byte, not decoded
 * and searched for U+FFFD: V8's decoder costs ≈ 2 µs per 192 bytes holding stray bytes.
 */
function keptSequences(body: Uint8Array, a: number, b: number, out: Uint8Array, o: number): number {
  for (let e = a; e < b; ) {
    const len = sequenceAt(body, e, b)
    if (len === 0) {
      e++
      continue
    }
    if (!(len === 3 && body[e] === 0xef && body[e + 1] === 0xbf && body[e + 2] === 0xbd)) for (let j = 0; j < len; j++) out[o++] = body[e + j]!
    e += len
  }
  return o
}

/**
 * The length of the well-formed UTF-8 sequence at `e` that ends by `end`, 0 when none starts
 * there. A lead byte's second byte is well formed exactly when the pair is (PAIR_OK holds the
 * E0, ED, F0 and F4 ranges), the third and fourth are continuation bytes.
 */
function sequenceAt(body: Uint8Array, e: number, end: number): number {
  const c = body[e]!
  if (c < 0x80) return 1
  const len = LEAD_LENGTH[c]!
  if (len === 0 || e + len > end || PAIR_OK[(c << 8) | body[e + 1]!] === 0) return 0
  if (len > 2 && (body[e + 2]! & 0xc0) !== 0x80) return 0
  if (len > 3 && (body[e + 3]! & 0xc0) !== 0x80) return 0
  return len
}

/** `a` and `b` joined by one space, or the one that is not empty. */
function joinedTexts(a: string, b: string): string {
  return a === '' ? b : b === '' ? a : `${a} ${b}`
}

/**
 * What a body that is not valid UTF-8 is scanned as: its text runs (`textRuns`), then its spoilt
 * text (`spoiltText`), joined by one space; found with one copy of the body into the WebAssembly
 * module when it takes the body.
 */
export function binaryText(body: Uint8Array): string {
  return textAndPrintableRuns(body, null).text
}

/**
 * The text runs of `body` (see the file comment), joined by one space; '' when it has none.
 * Each run is exactly what the body's UTF-8 reading holds between its replacement characters.
 * Found by the WebAssembly finder (`run-finder-wasm.ts`) when it takes the body, else by
 * `textRunBounds`; both find the same runs.
 */
export function textRuns(body: Uint8Array, min = MIN_TEXT_RUN): string {
  const fast = body.length >= WASM_FROM ? wasmRunBounds('utf8', body, min) : null
  return joinedBounds(body, fast ?? textRunBounds(body, min), 0x20)
}

/**
 * The printable runs of `decoders.ts`' `printableRuns` (printable ASCII and tab, at least `min`
 * bytes, one per line) by the WebAssembly finder; null when it does not take the body (the
 * caller's JavaScript loop then finds the same runs).
 */
export function printableRunsWasm(body: Uint8Array, min: number): string | null {
  const fast = body.length >= WASM_FROM ? wasmRunBounds('printable', body, min) : null
  return fast === null ? null : joinedBounds(body, fast, 0x0a)
}

/**
 * `binaryText(body)` and the joined printable runs of at least `printableMin` bytes (what
 * `printableRunsWasm` gives; none looked for when null) with one copy of the body into the
 * WebAssembly finders; `printable` is null when the module does not take the body (the text is
 * then found by the loops, and the caller's printable-run finder runs as before). The request
 * path reads both of a binary body.
 */
export function textAndPrintableRuns(body: Uint8Array, printableMin: number | null): {readonly text: string; readonly printable: string | null} {
  let text: string | null = null
  let printable: string | null = null
  let spoilt = ''
  if (body.length >= WASM_FROM) {
    // Each view is joined before the next finder overwrites it; the text runs' bounds are kept
    // for the spoilt text (a copy: a few pairs).
    let runs: ArrayLike<number> = []
    wasmBothRunBounds(
      body,
      MIN_TEXT_RUN,
      printableMin,
      (kind, bounds) => {
        if (kind === 'utf8') {
          text = joinedBounds(body, bounds, 0x20)
          runs = bounds.slice()
        } else printable = joinedBounds(body, bounds, 0x0a)
      },
      {max: DAMAGE_MAX, read: (counts) => (spoilt = spoiltText(body, counts, runs))},
    )
  }
  if (text === null) {
    const runs = textRunBounds(body)
    return {text: joinedTexts(joinedBounds(body, runs, 0x20), spoiltText(body, damageCounts(body), runs)), printable}
  }
  return {text: joinedTexts(text, spoilt), printable}
}

/** The byte ranges `bounds` of `body` joined by `sep` (`joinedRuns` with the size counted). */
function joinedBounds(body: Uint8Array, bounds: ArrayLike<number>, sep: number): string {
  let size = -1
  for (let k = 0; k < bounds.length; k += 2) size += bounds[k + 1]! - bounds[k]! + 1
  return joinedRuns(body, bounds, size, sep)
}

/** The text runs of `body` as (start, end) pairs, by the JavaScript loop (the reference of the WebAssembly finder). */
export function textRunBounds(body: Uint8Array, min = MIN_TEXT_RUN): number[] {
  const n = body.length
  const bounds: number[] = []
  let i = 0
  // The window's last four pairs are probed at once (min ≥ 5: all four lie in the window).
  const four = min >= 5
  while (i + min <= n) {
    // Every pair (p, p + 1) with i ≤ p ≤ i + min − 2 must be well formed for a run to start at i.
    let p = i + min - 2
    if (four) {
      // The pairs p − 3 … p together, with one branch: a run starting anywhere in i … p − 3 holds
      // all four, so one ill-formed pair among them rules those starts out. In random bytes ≈ 40 %
      // of pairs are well formed, so a lone pair's test went either way (a mispredicted branch per
      // window, half the pass's time); four together fail ≈ 97 % of the time (issue 36).
      const a = body[p - 3]!
      const b = body[p - 2]!
      const c = body[p - 1]!
      const d = body[p]!
      if ((PAIR_OK[(a << 8) | b]! & PAIR_OK[(b << 8) | c]! & PAIR_OK[(c << 8) | d]! & PAIR_OK[(d << 8) | body[p + 1]!]!) === 0) {
        i = p - 2
        continue
      }
      p -= 4
    }
    while (p >= i && PAIR_OK[(body[p]! << 8) | body[p + 1]!] === 1) p--
    if (p >= i) {
      i = p + 1
      continue
    }
    // A candidate: read the well-formed sequences forward from i, as `sequenceAt` reads one, but
    // inline, not by a call per sequence (issue 36: random bytes hold ≈ 150 candidates per 64 KiB,
    // most cut short by a sequence; the call cost multi-byte text about a fifth of this loop).
    let e = i
    for (;;) {
      if (e >= n) break
      const c = body[e]!
      if (c < 0x80) {
        e++
        continue
      }
      const len = LEAD_LENGTH[c]!
      if (len === 0 || e + len > n || PAIR_OK[(c << 8) | body[e + 1]!] === 0) break
      if (len > 2 && (body[e + 2]! & 0xc0) !== 0x80) break
      if (len > 3 && (body[e + 3]! & 0xc0) !== 0x80) break
      e += len
    }
    if (e - i >= min) bounds.push(i, e)
    // The byte at e starts no well-formed sequence; the next run starts after it.
    i = e + 1
  }
  return bounds
}

/**
 * The byte ranges `bounds` (start, end pairs) of `body` joined by the byte `sep`, read as UTF-8
 * (`size`: their bytes and separators); '' for none: one buffer read once, not a string and a
 * concatenation per run (text runs are well-formed UTF-8 each, so the reading is their readings
 * joined). Copied byte by byte: runs are short. Also
 * the printable-run finder's (`decoders.ts`): ASCII reads the same as UTF-8 and Latin-1.
 */
export function joinedRuns(body: Uint8Array, bounds: ArrayLike<number>, size: number, sep: number): string {
  if (bounds.length === 0) return ''
  const out = Buffer.allocUnsafe(size)
  let o = 0
  for (let k = 0; k < bounds.length; k += 2) {
    if (k > 0) out[o++] = sep
    for (let j = bounds[k]!, e = bounds[k + 1]!; j < e; j++) out[o++] = body[j]!
  }
  return out.toString('utf8', 0, o)
}

/** The prefix a body is validated on first (`isUtf8Text`). */
const PREFIX = 1024

/**
 * True when the body is one UTF-8 text (every byte well formed): its reading is scanned whole.
 * Node's validator reads the whole body even when it is binary (≈ 3.5 µs per 64 KiB, issue 36),
 * so a prefix is validated first: it ends before a byte that is not a continuation byte, so no
 * sequence of the body crosses its end, and an ill-formed prefix means an ill-formed body (random
 * bytes fail within a few bytes). A well-formed prefix says nothing: the whole body is validated.
 */
export function isUtf8Text(body: Uint8Array): boolean {
  let k = PREFIX
  while (k < body.length && (body[k]! & 0xc0) === 0x80) k++
  if (k < body.length && !isUtf8(body.subarray(0, k))) return false
  return isUtf8(body)
}

/**
 * The reading of a body `isUtf8Text` found well formed: what `toString('utf8')` gives, made faster.
 * Outside ASCII, V8's decoder costs ≈ 3 ns a byte (≈ 205 µs for 64 KiB of Cyrillic, ≈ 110 µs for
 * French prose) and Node's UTF-8 → UTF-16 transcoder ≈ 0.35 (≈ 20–40 µs); an ASCII body is read
 * as Latin-1, the same one-byte string (≈ 4 µs). A runtime without the transcoder (Node built
 * without ICU) or one that refuses the body takes `toString`.
 */
export function wellFormedUtf8Text(body: Uint8Array): string {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (isAscii(buf)) return buf.toString('latin1')
  if (typeof transcode === 'function') {
    try {
      return transcode(buf, 'utf8', 'utf16le').toString('utf16le')
    } catch {
      // Refused: read below.
    }
  }
  return buf.toString('utf8')
}

/**
 * The text a body is scanned as — its UTF-8 reading when well formed, else `binaryText` — and
 * the printable runs of at least `printableMin` bytes of a body read through its text runs, found
 * with them (`textAndPrintableRuns`); `printable` is null for a UTF-8 body and whenever they were
 * not found here; `utf8`, for a UTF-8 body, is the body: its text's encoding.
 */
export function bodyScanTexts(body: Uint8Array, printableMin: number): {readonly text: string; readonly printable: string | null; readonly utf8?: Uint8Array} {
  // A well-formed body is its reading's UTF-8 encoding (`utf8`): the reading encodes back to it.
  if (isUtf8Text(body)) return {text: wellFormedUtf8Text(body), printable: null, utf8: body}
  return textAndPrintableRuns(body, printableMin)
}
