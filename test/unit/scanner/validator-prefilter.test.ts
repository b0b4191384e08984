/**
 * `matchDlpPattern` skips enumerating a validator pattern's regex hits when `mayValidateIn`
 * proves no substring can pass the validator (WIF: no 51 base58 characters in a row). The
 * oracle is the enumeration as it was: every regex hit tried until one validates. On texts with
 * real WIF keys (compressed and not) at random places, decoys, long alphanumeric runs broken by
 * non-base58 characters (0 O I l) and the bench's repetitive values, both give the same hit.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {test} from 'node:test'
import RE2 from 're2'
import {compileConfiguredDlp, compileCoreDlp, findAll, matchDlpPattern, runValidator} from '../../../src/plugins/scanner/index.js'
import {base58Decode, mayValidateIn, validateWif, WIF_KEY_START, wifCandidateRuns} from '../../../src/plugins/scanner/validators.js'
import {alnum, base58chars, prng, wif} from './fixtures.js'

type Pattern = ReturnType<typeof compileCoreDlp>[number]

function oracleMatch(p: Pattern, text: string): {index: number; length: number} | null {
  if (text.length === 0) return null
  for (const h of findAll(p.reAll!, text)) if (runValidator(p.validator!, h.text)) return {index: h.index, length: h.length}
  return null
}

test('validator prefilter: the same first validated hit as enumerating every regex hit (WIF, Luhn, IBAN, ABA)', () => {
  const patterns = [...compileCoreDlp(), ...compileConfiguredDlp(true, [])].filter((p) => p.validator !== undefined)
  assert.ok(patterns.some((p) => p.validator === 'wif'), 'a WIF pattern is built in')
  const r = prng(1122)
  const pieces = [
    () => wif(true, String(Math.floor(r() * 1e9))), () => wif(false, String(Math.floor(r() * 1e9))),
    () => base58chars(40 + Math.floor(r() * 30), Math.floor(r() * 1e6)), () => alnum(40 + Math.floor(r() * 30), Math.floor(r() * 1e6)),
    () => '0', () => 'l', () => 'O', () => 'I', () => ' ', () => '\n', () => `value ${Math.floor(r() * 20)}`, () => '4111 1111 1111 1111',
    () => 'GB82WEST12345698765432', () => '011000015', () => 'ü', () => 'beta'.repeat(20), () => 'K', () => '5',
  ]
  let hits = 0
  let skipped = 0
  for (let i = 0; i < 1500; i++) {
    const parts = Array.from({length: Math.floor(r() * 12)}, () => pieces[Math.floor(r() * pieces.length)]!())
    const text = parts.join(r() < 0.5 ? '' : ' ')
    // A valid key with one character swapped for a non-base58 one (a near miss).
    const variants = [text, text.replace(/[1-9A-HJ-NP-Za-km-z]/, '0'), text.replace(/\s/g, '')]
    for (const t of variants) {
      for (const p of patterns) {
        const want = oracleMatch(p, t)
        assert.deepEqual(matchDlpPattern(p, t), want, `${p.name}: ${JSON.stringify(t)}`)
        if (want !== null) hits++
        if (!mayValidateIn(p.validator!, t)) {
          skipped++
          assert.equal(want, null, `prefilter said no, but a hit validates: ${p.name} ${JSON.stringify(t)}`)
        }
      }
    }
  }
  // The bench's repetitive values: the case-insensitive WIF regex matches, nothing validates.
  const bench = 'value 3 '.repeat(50).replace(/ /g, '')
  const wifPattern = patterns.find((p) => p.validator === 'wif')!
  assert.ok(findAll(wifPattern.reAll!, bench).length > 0)
  assert.equal(mayValidateIn('wif', bench), false)
  assert.equal(matchDlpPattern(wifPattern, bench), null)
  assert.ok(hits > 500, `validated hits ${hits}`)
  assert.ok(skipped > 500, `prefiltered ${skipped}`)
})

test('hits of a long all-ASCII text (searched as bytes) equal the hits of the string search, zero-length ones included', () => {
  const r = prng(1024)
  const pieces = [wif(true), wif(false), '4111 1111 1111 1111', 'GB82WEST12345698765432', alnum(60), 'beta', 'alpha', '5', 'K', 'l', ' ', '\n', '-', '.', 'x', '']
  const patterns = [...compileCoreDlp(), ...compileConfiguredDlp(true, [])].filter((p) => p.validator !== undefined).map((p) => p.re)
  patterns.push(new RE2('x*', 'gu'), new RE2('(?i)\\bbeta\\b', 'u'), new RE2('$', 'gu'))
  // The string search as it was (every text through the binding's string path, UTF-16 indices).
  const viaString = (re: InstanceType<typeof RE2>, text: string, limit: number): Array<{index: number; length: number; text: string}> => {
    const g = new RE2(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g')
    const out: Array<{index: number; length: number; text: string}> = []
    for (;;) {
      const m = g.exec(text)
      if (m === null) break
      if (m[0].length === 0) g.lastIndex = m.index + 1
      out.push({index: m.index, length: m[0].length, text: m[0]})
      if (out.length >= limit || g.lastIndex > text.length) break
    }
    return out
  }
  let hits = 0
  for (let i = 0; i < 60; i++) {
    const text = Array.from({length: 40 + Math.floor(r() * 400)}, () => pieces[Math.floor(r() * pieces.length)]!).join(r() < 0.5 ? '' : ' ')
    for (const re of patterns) {
      for (const limit of [1000, 3]) {
        const want = viaString(re, text, limit)
        assert.deepEqual(findAll(re, text, limit), want, `${re.source} on ${text.length} units`)
        hits += want.length
      }
    }
  }
  assert.ok(hits > 1000, `hits ${hits}`)
})

test('WIF prefilter bounds: a 37-byte payload from 0x80 is 51 base58 digits led by 5, a 38-byte one 52 led by K or L', () => {
  const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  const form = (v: bigint): string => {
    let s = ''
    for (; v > 0n; v /= 58n) s = B58[Number(v % 58n)]! + s
    return s
  }
  for (const [bytes, length, leads, first, last] of [[37, 51, '5', '5H', '5K'], [38, 52, 'KL', 'Kw', 'L5']] as const) {
    const shift = 8n * BigInt(bytes - 1)
    // Every number in [0x80·256^(n−1), 0x81·256^(n−1)) lies between these two, so its base58
    // form does too: of the same length, its two leading digits between theirs.
    const lo = form(0x80n << shift)
    const hi = form((0x81n << shift) - 1n)
    for (const s of [lo, hi]) {
      assert.equal(s.length, length)
      assert.ok(leads.includes(s[0]!), s)
    }
    assert.deepEqual([lo.slice(0, 2), hi.slice(0, 2)], [first, last])
  }
  // The two-digit leads the shape and mayValidateIn allow are exactly those from 5H to 5K and
  // from Kw to L5 in base58 digit order.
  const rank = (lead: string): number => B58.indexOf(lead[0]!) * 58 + B58.indexOf(lead[1]!)
  const leadsBetween = (a: string, b: string): string[] => {
    const out: string[] = []
    for (const x of B58) for (const y of B58) if (rank(x + y) >= rank(a) && rank(x + y) <= rank(b)) out.push(x + y)
    return out
  }
  assert.deepEqual(leadsBetween('5H', '5K'), ['5H', '5J', '5K'])
  assert.deepEqual(leadsBetween('Kw', 'L5'), ['Kw', 'Kx', 'Ky', 'Kz', 'L1', 'L2', 'L3', 'L4', 'L5'])
  const shape = new RegExp(`^(?:${WIF_KEY_START})$`)
  for (const x of B58) {
    for (const y of B58) {
      const allowed = leadsBetween('5H', '5K').includes(x + y) || leadsBetween('Kw', 'L5').includes(x + y)
      const body = x === '5' ? '2'.repeat(49) : '2'.repeat(50)
      assert.equal(shape.test(x + y + body), allowed, x + y)
      assert.equal(mayValidateIn('wif', x + y + body), allowed, x + y)
    }
  }
  // Real keys start so; a long base58 run without such a start is refused, one with it is not.
  for (let k = 0; k < 20; k++) {
    assert.match(wif(false, `k${k}`), /^5/)
    assert.match(wif(true, `k${k}`), /^[KL]/)
  }
  const pattern = [...compileCoreDlp(), ...compileConfiguredDlp(true, [])].find((p) => p.validator === 'wif')!
  for (const t of ['beta'.repeat(200), `${'beta'.repeat(100)}K${'beta'.repeat(12)}`, `x5${'a'.repeat(49)}`, `L${'b'.repeat(50)}`]) {
    assert.equal(mayValidateIn('wif', t), false, t)
    assert.equal(oracleMatch(pattern, t), null)
  }
  for (const t of [`5H${'a'.repeat(49)}`, `beta${'K'.repeat(10)}Kz${'K'.repeat(50)}`, `-${wif(true)}-`, `${'beta'.repeat(30)}${wif(false)}`]) assert.equal(mayValidateIn('wif', t), true, t)
  // A '5', 'K' or 'L' with another second digit (a sorted join's glued numbers) is no key start.
  for (const t of [`5${'a'.repeat(50)}`, `beta${'K'.repeat(52)}`, `5${'1234567899'.repeat(6)}`, `L6${'b'.repeat(50)}`]) assert.equal(mayValidateIn('wif', t), false, t)
  const glued = `${'beta'.repeat(30)} ${wif(false)}`
  assert.deepEqual(matchDlpPattern(pattern, glued), oracleMatch(pattern, glued))
  assert.notEqual(oracleMatch(pattern, glued), null)
})

test('built-in WIF over long ASCII texts: searching only the class runs that hold a key start finds the hit the full enumeration finds', () => {
  const pattern = [...compileCoreDlp(), ...compileConfiguredDlp(true, [])].find((p) => p.validator === 'wif')!
  const r = prng(5151)
  const pieces = [
    () => wif(true, String(Math.floor(r() * 1e9))), () => wif(false, String(Math.floor(r() * 1e9))),
    // A key behind a few letters of its run: the full enumeration's hit starts before it and swallows it.
    () => `l${'a'.repeat(Math.floor(r() * 60))}${wif(r() < 0.5, String(Math.floor(r() * 1e9)))}`,
    () => `5${base58chars(49 + Math.floor(r() * 4), Math.floor(r() * 1e6))}`, () => String(Math.floor(r() * 1e12)),
    () => 'alpha'.repeat(1 + Math.floor(r() * 40)), () => 'false'.repeat(1 + Math.floor(r() * 40)), () => alnum(40 + Math.floor(r() * 80), Math.floor(r() * 1e6)),
    () => '0', () => 'O', () => 'I', () => 'l', () => 'K', () => 'L', () => '5', () => ' ', () => '.', () => '\n', () => '-',
  ]
  let hits = 0
  let runsUsed = 0
  for (let i = 0; i < 250; i++) {
    const text = Array.from({length: 20 + Math.floor(r() * 300)}, () => pieces[Math.floor(r() * pieces.length)]!()).join(r() < 0.7 ? '' : ' ')
    for (const t of [text, text.replace(/[\s.]/g, ''), `${text}ü`, text.slice(0, 50999), text.slice(0, 51000)]) {
      const want = oracleMatch(pattern, t)
      assert.deepEqual(matchDlpPattern(pattern, t), want, `${t.length} units`)
      if (want !== null) hits++
      if (t.length < 51000 && wifCandidateRuns(t) !== null) runsUsed++
    }
  }
  assert.ok(hits > 100, `validated hits ${hits}`)
  assert.ok(runsUsed > 500, `searched by runs ${runsUsed}`)
  // A run holds every hit of its class; a key start outside the ranges is not searched.
  assert.deepEqual(wifCandidateRuns(`ab ${wif(false)} cd`), [3, 54])
  assert.deepEqual(wifCandidateRuns('beta'.repeat(40)), [])
  assert.equal(wifCandidateRuns(`${wif(false)} ü`), null)
})

test('built-in WIF over texts of 51,000 ASCII units and more: the walk finds the hit RE2 enumerating the first 1,000 hits finds', () => {
  const pattern = [...compileCoreDlp(), ...compileConfiguredDlp(true, [])].find((p) => p.validator === 'wif')!
  const r = prng(7070)
  const base64 = (n: number): string => createHash('sha256').update(String(r())).digest('base64').repeat(Math.ceil(n / 44)).slice(0, n)
  const randomBase64 = (n: number): string => Buffer.from(Array.from({length: Math.ceil((n * 3) / 4)}, () => Math.floor(r() * 256))).toString('base64').slice(0, n)
  const pieces = [
    () => randomBase64(2000 + Math.floor(r() * 20000)), () => base64(500), () => wif(true, String(Math.floor(r() * 1e9))), () => wif(false, String(Math.floor(r() * 1e9))),
    // A key glued to the letters before it (the run's first hit swallows its start), in lower case, or with one unit changed.
    () => `k${'a'.repeat(Math.floor(r() * 60))}${wif(r() < 0.5, String(Math.floor(r() * 1e9)))}`, () => wif(true, String(Math.floor(r() * 1e9))).toLowerCase(),
    () => wif(false, String(Math.floor(r() * 1e9))).replace(/.$/, '0'), () => `5${base58chars(49 + Math.floor(r() * 4), Math.floor(r() * 1e6))}`,
    () => 'K'.repeat(52 + Math.floor(r() * 200)), () => ' ', () => '/', () => '\n', () => '0', () => 'l', () => 'L',
  ]
  let found = 0
  let texts = 0
  for (let i = 0; i < 40; i++) {
    const parts: string[] = []
    while (parts.reduce((n, x) => n + x.length, 0) < 51000) parts.push(pieces[Math.floor(r() * pieces.length)]!())
    const text = parts.join('')
    for (const t of [text, text.replace(/[\s/]/g, ''), `${'5'.repeat(51)} ${'L'.repeat(52)} `.repeat(600) + text]) {
      texts++
      const want = oracleMatch(pattern, t)
      assert.deepEqual(matchDlpPattern(pattern, t), want, `${t.length} units`)
      if (want !== null) found++
    }
  }
  assert.ok(found > 30 && found < texts, `found ${found} of ${texts}`)
  // Past the 1,000th hit a key is not reached, as RE2's enumeration stops there.
  const key = wif(false)
  const hits = (n: number): string => `${'5'.repeat(51)} `.repeat(n)
  assert.deepEqual(matchDlpPattern(pattern, hits(999) + key + ' '.repeat(51000)), {index: 999 * 52, length: 51})
  assert.equal(matchDlpPattern(pattern, hits(1000) + key + ' '.repeat(51000)), null)
  assert.equal(oracleMatch(pattern, hits(1000) + key + ' '.repeat(51000)), null)
})

test('base58 decoding and the WIF check equal their digit-at-a-time forms', () => {
  const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  const slowDecode = (s: string): Buffer | null => {
    let n = 0n
    for (const ch of s) {
      const v = B58.indexOf(ch)
      if (v < 0) return null
      n = n * 58n + BigInt(v)
    }
    let hex = n === 0n ? '' : n.toString(16)
    if (hex.length % 2 === 1) hex = '0' + hex
    let zeros = 0
    while (zeros < s.length && s[zeros] === '1') zeros++
    return Buffer.concat([Buffer.alloc(zeros), Buffer.from(hex, 'hex')])
  }
  const slowWif = (s: string): boolean => {
    const raw = slowDecode(s)
    if (raw === null || raw.length < 5) return false
    const body = raw.subarray(0, raw.length - 4)
    const sum = createHash('sha256').update(createHash('sha256').update(body).digest()).digest().subarray(0, 4)
    if (!sum.equals(raw.subarray(raw.length - 4))) return false
    const key = body.subarray(1)
    return body[0] === 0x80 && (key.length === 32 || (key.length === 33 && key[32] === 0x01))
  }
  const r = prng(58)
  const samples = ['', '1', '11', '1z', 'z', '0', 'l', 'ü', '😀', '\ud800', '5'.repeat(51), 'K'.repeat(52)]
  for (let i = 0; i < 3000; i++) {
    const k = Math.floor(r() * 5)
    if (k === 0) samples.push(wif(r() < 0.5, String(i)))
    else if (k === 1) samples.push(base58chars(Math.floor(r() * 70), i))
    else if (k === 2) {
      // A real key with one character changed: a checksum or version that fails.
      const w = wif(r() < 0.5, `m${i}`)
      const at = Math.floor(r() * w.length)
      samples.push(w.slice(0, at) + B58[Math.floor(r() * 58)] + w.slice(at + 1))
    } else if (k === 3) samples.push('1'.repeat(Math.floor(r() * 4)) + base58chars(1 + Math.floor(r() * 20), i))
    else samples.push(alnum(Math.floor(r() * 60), i))
  }
  let valid = 0
  for (const s of samples) {
    assert.deepEqual(base58Decode(s), slowDecode(s), s)
    assert.equal(validateWif(s), slowWif(s), s)
    if (slowWif(s)) valid++
  }
  assert.ok(valid > 500, `valid ${valid}`)
})
