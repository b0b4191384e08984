// Shortcuts on the URL scan's per-request path (issue 18, branch relay), each against the code
// it skips, kept here or beside it as the oracle.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {canonicaliseAltIPv4Parsed, parseIPv4, type IpBytes} from '../../../src/plugins/scanner/ip.js'
import {canonicaliseAltIPv4, crlfReason} from '../../../src/plugins/scanner/index.js'

let seed = 11
const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n

test('canonicaliseAltIPv4: the dotted-decimal shortcut answers as the full parse does', () => {
  const hosts = ['127.0.0.1', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.02.3.4', '1.2.3.00', '0x7f.0.0.1', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '', '0', '00',
    '2130706433', '017700000001', '0x7f000001', '1.2.3.4a', 'example.com', 'a.b.c.d', '99999999999999999999999999999999999999999.1.1.1', '1.2.3.0', '10.0.0.010', '1e3.1.1.1', '１.2.3.4']
  const alphabet = '0123456789.x0a'
  for (let i = 0; i < 20000; i++) hosts.push(Array.from({length: 1 + rnd(16)}, () => alphabet[rnd(alphabet.length)]!).join(''))
  for (let i = 0; i < 5000; i++) hosts.push(Array.from({length: 4}, () => String(rnd(400)).padStart(rnd(3) === 0 ? 3 : 0, '0')).join('.'))
  for (const h of hosts) assert.equal(canonicaliseAltIPv4(h), canonicaliseAltIPv4Parsed(h), h)
})

/** crlfReason as first written: the oracle. */
function crlfOracle(rawUrl: string): string | null {
  const checks: ReadonlyArray<[string[], string]> = [
    [['%0d%0a'], 'CRLF injection sequence in URL'],
    [['%250d%250a'], 'double-encoded CRLF injection sequence in URL'],
    [['%0a', '%0d'], 'encoded CR or LF in URL'],
    [['%250a', '%250d'], 'double-encoded CR or LF in URL'],
    [['\r', '\n'], 'raw CRLF bytes in URL'],
  ]
  const hash = rawUrl.indexOf('#')
  const s = (hash >= 0 ? rawUrl.slice(0, hash) : rawUrl).toLowerCase()
  for (const [needles, reason] of checks) if (needles.some((n) => s.includes(n))) return reason
  return null
}

test('crlfReason: a URL with no %, CR or LF is clean without its lower-cased copy; every other answer unchanged', () => {
  const urls = ['http://127.0.0.1:8080/bin', 'http://x/a%0D%0Ab', 'http://x/a%250D%250Ab', 'http://x/%0a', 'http://x/\r\n', 'http://x/#%0d', 'http://x/\u212A%0D', 'http://x/%2', 'http://x/%', 'http://x/a\nb#c']
  const alphabet = ['%', '0', 'd', 'D', 'a', 'A', '2', '5', '\r', '\n', '#', '/', 'x', '\u212A', 'İ']
  for (let i = 0; i < 20000; i++) urls.push('http://h/' + Array.from({length: rnd(14)}, () => alphabet[rnd(alphabet.length)]!).join(''))
  for (const u of urls) assert.equal(crlfReason(u), crlfOracle(u), JSON.stringify(u))
})

/** parseIPv4 as first written (split, then each part): the oracle. */
function parseIPv4Oracle(s: string): IpBytes | null {
  const parts = s.split('.')
  if (parts.length !== 4) return null
  const out: number[] = []
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return null
    for (const c of p) if (c < '0' || c > '9') return null
    if (p.length > 1 && p[0] === '0') return null
    const v = Number(p)
    if (v > 255) return null
    out.push(v)
  }
  return out
}

test('parseIPv4: one pass over the code units answers as split-and-parse on every string', () => {
  const hosts = ['127.0.0.1', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.02.3.4', '1.2.3.00', '1.2.3.0', '0x7f.0.0.1', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3',
    '1.2.3.', '', '.', '...', '....', '0', '1.2.3.4a', 'a.b.c.d', '1000.1.1.1', '1.2.3.1000', '1e2.1.1.1', '+1.2.3.4', '-1.2.3.4', ' 1.2.3.4', '１.2.3.4', '1.2.3.\uD835', '\uD835\uDFD8.1.1.1', '999.999.999.999', '10.0.0.010']
  const alphabet = '0123456789..0a/:\u0660'
  for (let i = 0; i < 30000; i++) hosts.push(Array.from({length: rnd(18)}, () => alphabet[rnd(alphabet.length)]!).join(''))
  for (let i = 0; i < 20000; i++) hosts.push(Array.from({length: rnd(5) === 0 ? 3 + 2 * rnd(2) : 4}, () => String(rnd(5) === 0 ? rnd(1200) : rnd(256)).padStart(rnd(8) === 0 ? 2 + rnd(3) : 0, '0')).join('.'))
  let parsed = 0
  for (const h of hosts) {
    const want = parseIPv4Oracle(h)
    assert.deepEqual(parseIPv4(h), want, JSON.stringify(h))
    if (want !== null) parsed++
  }
  assert.ok(parsed > 2000, `parsed ${parsed}: both outcomes must be common`)
})
