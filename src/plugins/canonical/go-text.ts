// Go text semantics the compile output depends on (learn-compile §5, §7.4).

/**
 * Decodes a byte string (one char per byte) as Go does when it turns a string into JSON or
 * ranges over it: every byte of an invalid UTF-8 sequence becomes one U+FFFD.
 */
export function fromByteString(b: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(b)) return b
  let out = ''
  let i = 0
  const n = b.length
  while (i < n) {
    const c = b.charCodeAt(i)
    if (c < 0x80) {
      out += b[i]
      i++
      continue
    }
    let need = 0
    let cp = 0
    let min = 0
    if (c >= 0xc2 && c <= 0xdf) [need, cp, min] = [1, c & 0x1f, 0x80]
    else if (c >= 0xe0 && c <= 0xef) [need, cp, min] = [2, c & 0x0f, 0x800]
    else if (c >= 0xf0 && c <= 0xf4) [need, cp, min] = [3, c & 0x07, 0x10000]
    else {
      out += '\ufffd'
      i++
      continue
    }
    let ok = i + need < n
    let v = cp
    for (let k = 1; ok && k <= need; k++) {
      const d = b.charCodeAt(i + k)
      if (Number.isNaN(d) || (d & 0xc0) !== 0x80) ok = false
      else v = (v << 6) | (d & 0x3f)
    }
    if (!ok || v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
      out += '\ufffd'
      i++
      continue
    }
    out += String.fromCodePoint(v)
    i += need + 1
  }
  return out
}

/** Go strings.TrimSpace: Unicode White_Space only (no BOM, unlike String.prototype.trim). */
export function goTrimSpace(s: string): string {
  const ws = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/
  let a = 0
  let b = s.length
  while (a < b && ws.test(s[a] as string)) a++
  while (b > a && ws.test(s[b - 1] as string)) b--
  return s.slice(a, b)
}

function mapSimple(s: string, upper: boolean): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return upper ? s.toUpperCase() : s.toLowerCase()
  let out = ''
  for (const ch of s) {
    if (!upper && ch === '\u0130') {
      out += 'i' // Go's simple lowercase of İ; JS gives i + combining dot
      continue
    }
    const m = upper ? ch.toUpperCase() : ch.toLowerCase()
    // Go uses simple (1:1) case mappings: a multi-code-point JS result means "no simple mapping".
    out += [...m].length === 1 ? m : ch
  }
  return out
}

/** Go strings.ToUpper (per code point simple mapping: `ß` stays `ß`). */
export function goToUpper(s: string): string {
  return mapSimple(s, true)
}

/** Go strings.ToLower. */
export function goToLower(s: string): string {
  return mapSimple(s, false)
}

/**
 * Go strings.ToLower on a byte string: ASCII fast path; otherwise the bytes are decoded (invalid
 * bytes become U+FFFD, as Go's strings.Map writes them), lowered and re-encoded.
 */
export function goToLowerBytes(b: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(b)) return b.toLowerCase()
  return Buffer.from(goToLower(fromByteString(b)), 'utf8').toString('latin1')
}

/**
 * Go `fmt.Sprintf("%.<d>f", x)`: round half to even on the exact binary value. `toFixed` is
 * exact except on ties, which only exist when x·2^(d+1) is an integer.
 */
export function formatFixed(x: number, d: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN'
  // An integer has no tie to round (its fraction digits are all zeros), so `toFixed` is exact:
  // what the path below returns for it, without the 25-digit expansion (compile writes four
  // integer sizes per budget; bench: compile).
  if (Number.isInteger(x)) return x.toFixed(d)
  const scaled = x * 2 ** (d + 1)
  if (Number.isInteger(scaled) && Math.abs(scaled) < 2 ** 53) {
    // x has at most d+1 binary fraction digits, so this decimal expansion is exact.
    const s = Math.abs(x).toFixed(d + 25)
    const dot = s.indexOf('.')
    const tail = s.slice(dot + 1 + d)
    if (/^50*$/.test(tail)) {
      const digits = s.slice(0, dot) + s.slice(dot + 1, dot + 1 + d)
      const last = Number(digits[digits.length - 1])
      const rounded = last % 2 === 0 ? digits : (BigInt(digits) + 1n).toString().padStart(digits.length, '0')
      const body = d === 0 ? rounded : rounded.slice(0, rounded.length - d) + '.' + rounded.slice(rounded.length - d)
      return (x < 0 || Object.is(x, -0) ? '-' : '') + body
    }
  }
  return x.toFixed(d)
}

/**
 * A key folded so that two keys Go's `encoding/json` would decode into the same struct field
 * (`bytes.EqualFold`, Unicode simple folding) fold to the same string: `ſ` (U+017F) folds with
 * `s`, the Kelvin sign `K` (U+212A) with `k`, `ς` with `σ`. Each code point is lower-cased, then
 * upper-cased when that gives one code point. It may fold a little more than Go (`ı` with `i`):
 * callers use it to refuse ambiguous keys, where folding more only refuses more.
 */
export function goFoldKey(s: string): string {
  let out = ''
  for (const c of s) {
    let l = c.toLowerCase()
    if ([...l].length !== 1) l = c
    const u = l.toUpperCase()
    out += [...u].length === 1 ? u : l
  }
  return out
}
