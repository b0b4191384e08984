/**
 * Text DLP's fast paths (the DLP set's candidates, the least match length, the screens that skip
 * decodings and the seed detector) must find what the plain scan finds. The catalogue's secrets,
 * seed phrases, an env secret and configured patterns with `(?s)`, `(?m)` and `\b` are planted in
 * awkward forms — C0 controls other than line breaks inside a secret, CR/LF/tab, DEL and non-ASCII
 * elsewhere in the text, base64 (both alphabets, unpadded, cut by controls, one character short),
 * hex with `\x` and separators, base32, URL escapes and `+`, HTML character references (named,
 * numeric, without `;`, `&amp;amp;`, upper case) — and the request-body scan must return exactly
 * what the plain scan returns, whose engine has no set and so walks every form and every decoding.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {wordlist as english} from '@scure/bip39/wordlists/english.js'
import type {BodyScanInput} from '../../../src/plugins/scanner/body-scanner.js'
import {createScanner, defaultScannerSettings, scanTextForDlp, type ScannerSettings} from '../../../src/plugins/scanner/index.js'
import {scanRequestBodyOracle} from './body-scan-oracle.js'
import {CORE_DLP_EXTRA, DLP_CASES} from './catalogue-cases.js'
import {phraseFromEntropy} from './fixtures.js'

const ENV_SECRET = 'Hq7vTz2LmW9xKp4RsN8bYc3D'

function scannerWith(edit: (s: ScannerSettings) => void = () => {}) {
  const s = defaultScannerSettings()
  s.dlp.scanEnv = true
  s.dlp.env = {MY_SERVICE_SECRET: ENV_SECRET}
  edit(s)
  const sc = createScanner(s)
  return {sc, deps: {settings: sc.settings, dlp: {...sc.dlp, minMatchLength: 0, allSet: null}, response: sc.response}}
}

const SCANNERS = [
  ['defaults', scannerWith()],
  ['configured (?s), (?m) and \\b patterns', scannerWith((s) => {
    s.dlp.patterns = [
      {name: 'Dotall Pair', severity: 'critical', regex: '(?s)BEGIN.{1,3}TOKEN[0-9]{8}'},
      {name: 'Line Token', severity: 'critical', regex: '(?m)^tok_[a-z0-9]{16}$'},
      {name: 'Bounded Pin', severity: 'critical', regex: '\\bPIN[0-9]{6}\\b'},
      {name: 'Mixed Bound', severity: 'high', regex: '\\b[0-9]{4}-k[a-z]{6}\\b'},
    ]
  })],
] as const

const SECRETS = [...Object.values(DLP_CASES), ...Object.values(CORE_DLP_EXTRA)].flat()
const CONFIGURED = ['BEGIN\nTOKEN12345678', 'BEGIN\r\n.TOKEN12345678', 'tok_abcdef0123456789', 'PIN123456', '2024-kqwerty']
const PHRASES = [phraseFromEntropy(english, Buffer.alloc(16, 5)), phraseFromEntropy(english, Buffer.alloc(32, 11))]
const PROSE = 'The build finished in 12 ms; the quick brown fox jumps over the lazy dog and all is well.\n'

const at = (s: string, k: number, ins: string): string => s.slice(0, k) + ins + s.slice(k)
const every = (s: string, n: number, ins: string): string => (s.match(new RegExp(`[^]{1,${n}}`, 'g')) ?? []).join(ins)
const b64url = (b: Buffer): string => b.toString('base64url')
function base32(b: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of b) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31]
  return out + '='.repeat((8 - (out.length % 8)) % 8)
}
const pct = (s: string): string => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')

/** A secret in the awkward forms the fast paths reason about. */
function awkward(s: string): string[] {
  const h = Math.max(1, Math.floor(s.length / 2))
  const b = Buffer.from(s)
  const b64 = b.toString('base64')
  const bare = b64.replace(/=+$/, '')
  return [
    at(s, h, '\x0b'), at(s, h, '\x0c'), at(s, h, '\x00'), at(s, h, '\x1f'), at(at(s, h, '\x01'), 1, '\x02'),
    at(s, h, '\r\n'), at(s, h, '\t'), at(s, h, ' \x01.'), every(s, 3, '\x01'), every(s, 2, '.'),
    at(s, h, '\x7f'), `${s} \u00e9`, `\u2028${s}`,
    bare, at(bare, Math.floor(bare.length / 2), '\x01'), every(bare, 4, '\n'), every(bare, 5, '\x03'), bare.slice(0, -1), bare + 'A',
    b64, b64url(b), `\t${bare}\t`, `"${bare}"`, `${bare}\x01/`,
    b.toString('hex'), b.toString('hex').toUpperCase(), [...b].map((x) => `\\x${x.toString(16).padStart(2, '0')}`).join(''),
    every(b.toString('hex'), 2, '-'), at(b.toString('hex'), 6, '\x05'),
    base32(b), base32(b).replace(/=+$/, ''), at(base32(b), 8, '\x01'),
    pct(s), s.replaceAll(' ', '+'), `q=${pct(s)}&x=1`, at(s, h, '%20'), at(s, h, '+'), `a+b ${pct(s).slice(0, 30)}${s.slice(10)}`,
    at(s, h, '&amp;'), at(s, h, '&amp;amp;'), at(s, h, '&AMP;'), at(s, h, '&#38;'), at(s, h, '&#x26'),
    [...s].map((c) => `&#${c.codePointAt(0)};`).join(''), [...s].map((c) => `&#x${c.codePointAt(0)!.toString(16)}`).join(' '),
    s.replaceAll('-', '&hyphen;').replaceAll('.', '&period;').replaceAll('_', '&lowbar;'), `&amp;${s}&amp;`,
  ]
}

type Body = [label: string, contentType: string, body: string]

function bodiesOf(label: string, k: string): Body[] {
  return [
    [`${label}: text`, 'text/plain', `${PROSE}${PROSE}${k}\n${PROSE}`],
    [`${label}: text edge`, 'text/plain', `${PROSE}${PROSE}${PROSE}${k}`],
    [`${label}: text with &amp;`, 'text/plain', `${PROSE}fish &amp; chips ${k} &amp; more\n${PROSE}${PROSE}`],
    [`${label}: HTML`, 'text/html', `<!doctype html><html><body><p>${PROSE}</p><p>bread &amp; butter</p><p>${k}</p><p>${PROSE}${PROSE}</p></body></html>`],
  ]
}

function run(bodies: Body[]): number {
  let flagged = 0
  for (const [label, contentType, raw] of bodies) {
    const input: BodyScanInput = {contentType, body: Buffer.from(raw), host: 'example.com'}
    for (const [name, {sc, deps}] of SCANNERS) {
      const got = sc.scanRequestBody(input)
      assert.deepEqual(got, scanRequestBodyOracle(deps, input), `${name}: ${label}: ${JSON.stringify(raw).slice(0, 400)}`)
      if (got.action !== 'allow') flagged++
    }
  }
  return flagged
}

test('catalogue secrets and configured patterns in awkward forms: the body scan finds what the plain scan finds', () => {
  const bodies: Body[] = []
  // Each secret in each form goes into two of the four bodies, the pair turning with the secret and
  // the form (0 and 2, 1 and 3, …): every form meets every body shape across the catalogue, at half
  // the scans of all four for every pair (the oracle walks every pattern on every decoding).
  for (const [n, s] of [...SECRETS, ...CONFIGURED, ENV_SECRET].entries()) {
    awkward(s).forEach((k, i) => {
      const shapes = bodiesOf(`${JSON.stringify(s).slice(0, 40)} form ${i}`, k)
      bodies.push(shapes[(n + i) % 4]!, shapes[(n + i + 2) % 4]!)
    })
  }
  const flagged = run(bodies)
  // Half the catalogue's texts are its near misses, and many forms hide a secret from every step.
  assert.ok(flagged > 5000, `flagged ${flagged} of ${bodies.length * SCANNERS.length}`)
})

test('seed phrases separated by CR/LF, tab, form feed, controls, references, and encoded in segments', () => {
  const bodies: Body[] = []
  for (const p of PHRASES) {
    const words = p.split(' ')
    const b = Buffer.from(p)
    const forms = [
      p, words.join('\r\n'), words.join('\t'), words.join('\x0c'), words.join(' \x01'), words.join('\x01 '), words.join(',\n'),
      words.join(' &amp; '), words.join('&amp;'), words.join('&#32;'), words.join('&nbsp;'), words.join('+'), words.join('%20'),
      words.join(' \x7f'), `${p} \u00e9`, b.toString('base64'), every(b.toString('base64'), 76, '\n'), `\t${b.toString('base64').replace(/=+$/, '')}\t`,
      b64url(b), b.toString('hex'), base32(b), pct(p), at(b.toString('base64'), 12, '\x01'),
    ]
    forms.forEach((k, i) => bodies.push(...bodiesOf(`phrase ${words.length} form ${i}`, k)))
  }
  const flagged = run(bodies)
  assert.ok(flagged > bodies.length, `flagged ${flagged} of ${bodies.length * SCANNERS.length}`)
})

test('text DLP on a text and then the same text with its &amp; decoded: the same findings as the plain engine', () => {
  const {sc, deps} = SCANNERS[0][1]
  for (const s of [...SECRETS, ...PHRASES]) {
    const h = Math.max(1, Math.floor(s.length / 2))
    for (const k of [at(s, h, '&amp;'), at(s, h, '&amp;amp;'), `&amp;${s}`, `${s}&amp;`, s.replaceAll(' ', '&amp;')]) {
      const t = `${PROSE}${PROSE}x &amp; y ${k} z\n${PROSE}`
      for (const text of [t, t.replaceAll('&amp;', '&')]) {
        assert.deepEqual(scanTextForDlp(sc.dlp, text), scanTextForDlp(deps.dlp, text), JSON.stringify(text).slice(0, 400))
      }
    }
  }
})
