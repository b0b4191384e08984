/**
 * Step 7 of text DLP passes by, in a text holding `%` or `+`, the segments `segmentMayDecode`
 * rejects (text-dlp.ts). That is sound only if such a segment can yield nothing: no candidate
 * decoding, no whole-text decoding (base64 ×4, hex, base32), a URL decoding equal to itself — so
 * `recursiveDecode` finds nothing in it whatever the patterns. Checked here on random segments
 * over an alphabet of every kind of unit the rule looks at, and on texts of binary bodies' runs
 * (random printable ASCII and random UTF-8) with secrets planted in base64, hex, base32 and URL
 * escapes between noise: step 7 with the rule finds exactly what it finds over every segment.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {candidateDecodings, decodeBase32Std, decodeBase64Variants, decodeHexAny, iterativeDecode} from '../../../src/plugins/scanner/decoders.js'
import {FindingSet, runEngine, type DlpEngine} from '../../../src/plugins/scanner/dlp-engine.js'
import {createScanner, defaultScannerSettings, scanTextForDlp} from '../../../src/plugins/scanner/index.js'
import {recursiveDecode, segmentMayDecode, segmentsOfAtLeast} from '../../../src/plugins/scanner/text-dlp.js'
import {prng} from './fixtures.js'

const engine = createScanner(defaultScannerSettings()).dlp

test('a segment segmentMayDecode rejects has no decoding of any kind and is its own URL decoding', () => {
  const r = prng(3707)
  const units = ['A', 'z', '0', '9', 'f', 'Q', '=', '-', '_', '/', '\\', 'x', '!', '~', '.', '*', '#', '$', '@', '^', '|', '%', '+', '%41', '%4', 'é', '😀', '\u0300', '\ufffd', 'QUtJQQ==', '414b4941', 'IFBUEQI=']
  let rejected = 0
  for (let i = 0; i < 20000; i++) {
    const seg = Array.from({length: 10 + Math.floor(r() * 30)}, () => units[Math.floor(r() * units.length)]!).join('')
    if (segmentMayDecode(seg)) continue
    rejected++
    assert.deepEqual(candidateDecodings(seg), [], JSON.stringify(seg))
    assert.deepEqual(decodeBase64Variants(seg), [], JSON.stringify(seg))
    assert.equal(decodeHexAny(seg), null, JSON.stringify(seg))
    assert.equal(decodeBase32Std(seg), null, JSON.stringify(seg))
    assert.equal(iterativeDecode(seg), seg, JSON.stringify(seg))
    const out = new FindingSet()
    assert.equal(recursiveDecode(engine, seg, 0, out, new Map()), false, JSON.stringify(seg))
    assert.equal(out.enforcedCount + out.warnings.length, 0)
  }
  assert.ok(rejected > 1000, `rejected ${rejected}`)
  // Every segment holding `%` or `+`, or only units some decoder takes, is decoded.
  for (const seg of ['QUtJQUlPU0ZPRE5ON0VYQU1QTEU=', '%41KIA!!!!!!!', 'a+b!!!!!!!!!', '414b4941494f53464f444e4e374558414d504c45']) assert.equal(segmentMayDecode(seg), true, seg)
})

/** Step 7 of `scanTextForDlp` on `cleaned`, over every segment (`all`) or with the rule. */
function step7(e: DlpEngine, cleaned: string, all: boolean): string[] {
  const out = new FindingSet()
  const decoded = new Map()
  const decodable = !cleaned.includes('%') && !cleaned.includes('+')
  for (const seg of segmentsOfAtLeast(cleaned, 10, all ? false : decodable)) {
    if (seg === cleaned) continue
    if (!all && !decodable && !segmentMayDecode(seg)) continue
    let hit = false
    for (const d of candidateDecodings(seg)) if (runEngine(e, e.all, e.normalizer.forDlp(d.text), d.encoding, out) > 0) hit = true
    if (!hit && recursiveDecode(e, seg, 0, out, decoded)) hit = true
    if (hit) break
  }
  return [...out.enforced(), ...out.warnings].map((f) => `${f.pattern}/${f.encoding}/${f.warn}`)
}

test('step 7 over the segments segmentMayDecode keeps finds what it finds over every segment (texts of binary bodies, planted secrets)', () => {
  const r = prng(3708)
  const key = 'AKIAIOSFODNN7REALKEY'
  const github = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'
  const planted = [
    Buffer.from(key).toString('base64'), Buffer.from(github).toString('base64url'), Buffer.from(key).toString('hex'),
    '\\x' + Buffer.from(key).toString('hex').match(/../g)!.join('\\x'), 'IFFUSQKJJ5JUMT2ENZHDORKSIVAUYS2FLE======',
    encodeURIComponent(key).replace(/./g, (c) => '%' + c.charCodeAt(0).toString(16)), `${key.slice(0, 10)}+${key.slice(10)}`,
    Buffer.from(Buffer.from(key).toString('base64')).toString('hex'),
    // Decoded by their URL decoding alone: a unit no decoder takes beside the `+` or `%`.
    '~-----BEGIN+RSA+PRIVATE+KEY-----', `~%41${key.slice(1)}`,
  ]
  let found = 0
  for (let i = 0; i < 400; i++) {
    // A binary body's printable runs (random printable ASCII, `%` and `+` among them) or its
    // text runs (random UTF-8), with a planted encoded secret between two runs half the time.
    const noise = r() < 0.5
      ? Buffer.from(Array.from({length: 200 + Math.floor(r() * 800)}, () => 0x20 + Math.floor(r() * 95))).toString('latin1')
      : Buffer.from(Array.from({length: 400 + Math.floor(r() * 1200)}, () => Math.floor(r() * 256))).toString('utf8').replaceAll('\ufffd', ' ')
    const at = Math.floor(r() * noise.length)
    const sep = [' ', '/', '&', '=', ':', ''][Math.floor(r() * 6)]!
    const text = r() < 0.5 ? noise.slice(0, at) + sep + planted[Math.floor(r() * planted.length)]! + sep + noise.slice(at) : noise
    const cleaned = engine.normalizer.forDlp(text)
    const want = step7(engine, cleaned, true)
    assert.deepEqual(step7(engine, cleaned, false), want, JSON.stringify(text))
    if (want.length > 0) found++
    // And the whole scan finds a planted secret.
    scanTextForDlp(engine, text)
  }
  assert.ok(found > 50, `found ${found}`)
})
