import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import {bip39ChecksumValid, createDlpEngine, defaultScannerSettings, scanTextForDlp, type ScannerSettings} from '../../../src/plugins/scanner/index.js'
import {stripUnicodeWhitespace} from '../../../src/plugins/scanner/text-dlp.js'
import {useTextFormsWasm} from '../../../src/plugins/scanner/text-forms-wasm.js'
import {alnum, anthropicKey, awsKeyId, githubToken, j, phraseFromEntropy, prng, syntheticWordList} from './fixtures.js'

function engine(mut?: (s: ScannerSettings) => void) {
  const s = defaultScannerSettings()
  mut?.(s)
  return createDlpEngine(s)
}

const names = (r: {matches: Array<{pattern: string}>}) => [...new Set(r.matches.map((m) => m.pattern))]
const withEncoding = (r: {matches: Array<{pattern: string; encoding: string}>}) => r.matches.map((m) => `${m.pattern}/${m.encoding}`)

test('plain, encoded and obfuscated secrets are found; the secret never appears in the result', () => {
  const e = engine()
  const key = anthropicKey()
  const cases: Array<[string, string]> = [
    [`token: ${key}`, 'Anthropic API Key/'],
    [Buffer.from(key).toString('base64'), 'Anthropic API Key/base64'],
    [Buffer.from(key).toString('hex'), 'Anthropic API Key/hex'],
    [encodeURIComponent(encodeURIComponent(key)).split('-').join('%2D'), 'Anthropic API Key/url'],
    [key.slice(0, 10) + '.' + key.slice(10), 'Anthropic API Key/subdomain'],
    [key.slice(0, 10) + ' ' + key.slice(10), 'Anthropic API Key/whitespace'],
    [key.slice(0, 5) + '\u200b' + key.slice(5), 'Anthropic API Key/'],
    [`data="${Buffer.from(key).toString('base64')}"`, 'Anthropic API Key/base64'],
  ]
  for (const [text, want] of cases) {
    const r = scanTextForDlp(e, text)
    assert.ok(withEncoding(r).includes(want), `${want} not in ${withEncoding(r).join(',')}`)
    const serialised = JSON.stringify(r)
    assert.ok(!serialised.includes(key) && !serialised.includes(key.slice(7)), 'secret leaked into the result')
  }
})

test('confusables and full-width forms are folded before matching', () => {
  const e = engine()
  const key = githubToken()
  const cyr = '\u0261' + key.slice(1) // small-capital g → G? no: keep a cyrillic o in the body instead
  void cyr
  const withCyrillicA = key.replace('a', '\u0430')
  assert.ok(names(scanTextForDlp(e, withCyrillicA)).includes('GitHub Token'))
  const fullWidth = [...key].map((c) => (c >= '!' && c <= '~' ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c)).join('')
  assert.ok(names(scanTextForDlp(e, fullWidth)).includes('GitHub Token'))
})

test('core DLP runs with include_defaults false; core findings come first', () => {
  const e = engine((s) => {
    s.dlp.includeDefaults = false
  })
  const r = scanTextForDlp(e, `x ${githubToken()} and ${anthropicKey()}`)
  assert.deepEqual(names(r), ['GitHub Token'])
  assert.equal(r.matches[0]!.core, true)
  const d = scanTextForDlp(engine(), `x ${anthropicKey()} ${githubToken()}`)
  assert.equal(d.matches[0]!.core, true)
})

test('AWS documentation example is neutralised only with a doc-context phrase', () => {
  const e = engine()
  const ex = j('AKIA', 'IOSFODNN7', 'EXAMPLE')
  assert.deepEqual(names(scanTextForDlp(e, `Official AWS example: ${ex}`)), [])
  assert.ok(names(scanTextForDlp(e, `key=${ex}`)).includes('AWS Access ID'))
  assert.ok(names(scanTextForDlp(e, `Official AWS example: ${ex} but also ${awsKeyId()}`)).includes('AWS Access ID'))
})

test('warn patterns are informational', () => {
  const e = engine((s) => {
    s.dlp.patterns.push({name: 'Internal Ticket', severity: 'low', regex: 'TICKET-[0-9]{5}', action: 'warn'})
  })
  const r = scanTextForDlp(e, 'see TICKET-12345')
  assert.deepEqual(names(r), [])
  assert.deepEqual([...new Set(r.warnings.map((w) => w.pattern))], ['Internal Ticket'])
})

test('env and file secrets are found literally and encoded', () => {
  const secret = j('Zq', alnum(30, 99))
  const e = engine((s) => {
    s.dlp.env = {MY_SERVICE_SECRET: secret, HOME: '/home/averyveryverylongpath/abcdefgh', LOW: 'aaaaaaaaaaaaaaaaaaaa'}
    s.dlp.fileSecrets = [j('file', alnum(20, 5))]
  })
  assert.deepEqual(withEncoding(scanTextForDlp(e, `v=${secret}`)), ['Environment Variable Leak/env'])
  assert.deepEqual(withEncoding(scanTextForDlp(e, Buffer.from(secret).toString('base64'))), ['Environment Variable Leak/base64'])
  assert.deepEqual(withEncoding(scanTextForDlp(e, Buffer.from(secret).toString('hex').toUpperCase())), ['Environment Variable Leak/hex'])
  assert.deepEqual(names(scanTextForDlp(e, j('file', alnum(20, 5)))), ['Known Secret Leak'])
  assert.deepEqual(names(scanTextForDlp(e, '/home/averyveryverylongpath/abcdefgh aaaaaaaaaaaaaaaaaaaa')), [])
  const off = engine((s) => {
    s.dlp.env = {MY_SERVICE_SECRET: secret}
    s.dlp.scanEnv = false
  })
  assert.deepEqual(names(scanTextForDlp(off, secret)), [])
})

test('canary tokens are always checked', () => {
  const e = engine((s) => {
    s.canaryTokens = [{name: 'docs-canary', value: 'canary-7f3a9c2e1b'}]
  })
  assert.deepEqual(names(scanTextForDlp(e, 'x canary-7f3a9c2e1b y')), ['Canary Token (docs-canary)'])
})

test('seed phrases: checksum-valid windows only, with an injected word list', () => {
  const list = syntheticWordList()
  const phrase = phraseFromEntropy(list, Buffer.alloc(16, 7))
  const e = engine((s) => {
    s.seedPhrase.wordList = list
  })
  assert.deepEqual(names(scanTextForDlp(e, `my words: ${phrase}\n`)), ['BIP-39 Seed Phrase'])
  assert.deepEqual(names(scanTextForDlp(e, phrase.split(' ').join('-'))), ['BIP-39 Seed Phrase'])
  assert.deepEqual(names(scanTextForDlp(e, Buffer.from(phrase).toString('base64'))), ['BIP-39 Seed Phrase'])
  const words = phrase.split(' ')
  const idx = words.map((w) => list.indexOf(w))
  let last = 0
  while (bip39ChecksumValid([...idx.slice(0, 11), last])) last++
  const broken = [...words.slice(0, 11), list[last]].join(' ')
  assert.deepEqual(names(scanTextForDlp(e, broken)), [])
  const noCheck = engine((s) => {
    s.seedPhrase.wordList = list
    s.seedPhrase.verifyChecksum = false
  })
  assert.deepEqual(names(scanTextForDlp(noCheck, broken)), ['BIP-39 Seed Phrase'])
  // The synthetic words are not English BIP-39 words: the default detector ignores them.
  assert.deepEqual(names(scanTextForDlp(engine(), phrase)), [])
})

test('seed phrases: the English BIP-39 list is used by default; disabling the detector disables it', () => {
  // BIP-39 test vector: 128 zero bits of entropy.
  const phrase = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
  assert.deepEqual(names(scanTextForDlp(engine(), `backup: ${phrase}`)), ['BIP-39 Seed Phrase'])
  // the same words with a wrong checksum word are not a phrase
  assert.deepEqual(names(scanTextForDlp(engine(), phrase.replace(/about$/, 'abandon'))), [])
  const off = engine((s) => {
    s.seedPhrase.enabled = false
  })
  assert.deepEqual(names(scanTextForDlp(off, phrase)), [])
})

test('segment decoding catches a base64 secret inside JSON-ish text', () => {
  const e = engine()
  const key = awsKeyId()
  const r = scanTextForDlp(e, `{"note":"hello","blob":"${Buffer.from('id=' + key).toString('base64')}"}`)
  assert.ok(names(r).includes('AWS Access ID'))
  assert.ok(!JSON.stringify(r).includes(key))
})

test('segment decoding among segments no decoder accepts: base64, and base64 under URL escapes, are still found', () => {
  const e = engine()
  const key = awsKeyId()
  const b64 = Buffer.from('id=' + key).toString('base64')
  // Prose whose segments mostly hold a unit every decoder rejects (`dog.12345`, `ms;`): the
  // walk passes those by, and must still yield the encoded one.
  const prose = (n: number) => Array.from({length: n}, (_, i) => `${i}: the build finished in ${i * 3} ms; the quick brown fox jumps over the lazy dog.`).join('')
  const plain = scanTextForDlp(e, `${prose(30)} ${b64} ${prose(30)}`)
  assert.deepEqual(withEncoding(plain).filter((f) => f.startsWith('AWS Access ID')), ['AWS Access ID/base64'])
  // The padding written as %3D: the segment holds `%`, which no decoder accepts, yet its URL
  // decoding is base64 (step 7's recursive decode of the segment is the only step that reads it).
  const escaped = b64.replace(/=/g, '%3D').replace(/\//g, '%2F').replace(/\+/g, '%2B')
  assert.ok(escaped.includes('%'), 'the fixture must escape something')
  const r = scanTextForDlp(e, `${prose(30)} ${escaped} ${prose(30)}`)
  assert.ok(names(r).includes('AWS Access ID'), `found ${withEncoding(r).join(',')}`)
  assert.ok(!JSON.stringify(r).includes(key))
})

for (const wasm of [true, false]) test(`dot- and white-space-free forms of long ASCII text (byte path, ${wasm ? 'WebAssembly' : 'JavaScript'}) find what the string path finds`, () => {
  useTextFormsWasm(wasm)
  after(() => useTextFormsWasm(true))
  const e = engine()
  const keys = [anthropicKey(4), githubToken(5), awsKeyId(6)]
  const prose = (n: number) => Array.from({length: n}, (_, i) => `${i}: the build finished in ${i * 3} ms; the quick brown fox jumps over the lazy dog.\n`).join('')
  const split = (key: string, sep: string) => key.slice(0, 8) + sep + key.slice(8, 14) + sep + key.slice(14)
  let found = 0
  for (const key of keys) {
    for (const sep of ['.', ' ', '\t', '\n', ' . ', '\r\n', '..']) {
      const text = `${prose(6)}${split(key, sep)} ${prose(6)}`
      // The same text with one unit above U+007F after a space: the string forms are built.
      const wide = `${text} \u00e9`
      const fast = scanTextForDlp(e, text)
      assert.deepEqual(withEncoding(fast), withEncoding(scanTextForDlp(e, wide)), JSON.stringify(sep))
      if (fast.matches.length > 0) found++
    }
    // Prose alone (no dot dropped, or no white space dropped, in its own forms) stays clean.
    assert.deepEqual(scanTextForDlp(e, prose(8).split('.').join('')), {matches: [], warnings: []})
    assert.deepEqual(scanTextForDlp(e, prose(8).replace(/\s/g, '_')), {matches: [], warnings: []})
  }
  assert.ok(found >= 18, `found in ${found} texts`)
})

test('clean text is clean', () => {
  const r = scanTextForDlp(engine(), 'The quick brown fox jumps over the lazy dog. SGVsbG8gd29ybGQ=')
  assert.deepEqual(r, {matches: [], warnings: []})
})

test('a built-in replaced by a user pattern cannot be demoted to warn', () => {
  const e = engine((s) => {
    s.dlp.patterns = [{name: 'Anthropic API Key', severity: 'critical', regex: 'sk-ant-[a-z0-9]{10,}', action: 'warn'}]
  })
  const r = scanTextForDlp(e, anthropicKey().toLowerCase())
  assert.ok(names(r).includes('Anthropic API Key'))
  assert.deepEqual(r.warnings, [])
})

test('step 5\'s white-space-free form drops exactly Go\'s unicode.IsSpace code points from texts of every kind', () => {
  // The reference: the code points Go's unicode.IsSpace names, removed by a regex.
  const spaces = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/g
  const r = prng(5151)
  const pool = ['a', 'Z', '9', '.', ' ', '\t', '\n', '\r', '\v', '\f', '\u0085', '\u00a0', '\u00e9', '\u00ff', '\u0100', '\u0416', '\u1680', '\u2000', '\u2007', '\u200a', '\u200b', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\u3001', '\ufeff', '\ud800', '\udc00', '\ud83d\ude00', 'съешь', 'word']
  for (let k = 0; k < 4000; k++) {
    const len = Math.floor(r() * (k % 10 === 0 ? 3000 : 60))
    const s = Array.from({length: len}, () => pool[Math.floor(r() * pool.length)]!).join('')
    assert.equal(stripUnicodeWhitespace(s), s.replace(spaces, ''), JSON.stringify(s))
  }
  // Long texts of one-byte and two-byte units, reusing the scratch at several sizes.
  for (const len of [70_000, 300, 600_000, 5]) {
    const s = 'съешь же\u3000ещё\u00a0этих\tмягких '.repeat(Math.ceil(len / 30)).slice(0, len)
    assert.equal(stripUnicodeWhitespace(s), s.replace(spaces, ''), `length ${len}`)
  }
})
