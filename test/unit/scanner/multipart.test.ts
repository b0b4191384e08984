// Issue 10 item 4: the six multipart blind spots, each a key the plain body would have blocked.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createScanner, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'
import {parseContentType} from '../../../src/plugins/canonical/index.js'
import {decodeParamValues, decodeQuotedPrintable, multipartBoundary} from '../../../src/plugins/scanner/multipart.js'

const KEY = 'AKIA' + 'Q3EGRZ7NXPLM4TWB'
const qpAll = (s: string): string => [...Buffer.from(s)].map((b) => '=' + b.toString(16).toUpperCase().padStart(2, '0')).join('')
const pctAll = (s: string): string => [...Buffer.from(s)].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('')

function mp(headers: string[], content: string, boundary = 'B0UND'): string {
  return [`--${boundary}`, ...headers, '', content, `--${boundary}--`, ''].join('\r\n')
}

const scanner = createScanner(defaultScannerSettings())
const scan = (ct: string, body: string) => scanner.scanRequestBody({contentType: ct, body: Buffer.from(body, 'utf8')})
const CT = 'multipart/form-data; boundary=B0UND'
const CD = 'Content-Disposition: form-data; name="f"'

test('the plain body with the key is blocked (the baseline every multipart variant must match)', () => {
  assert.equal(scan('text/plain', `k=${KEY}`).action, 'block')
})

const CASES: Array<[string, string, string]> = [
  ['a part header other than Content-Disposition', CT, mp([CD, `X-Note: ${KEY}`], 'x')],
  ['an extra Content-Disposition parameter', CT, mp([`Content-Disposition: form-data; name="f"; note="${KEY}"`], 'x')],
  ["a parameter of the part's Content-Type", CT, mp([CD, `Content-Type: text/plain; charset="${KEY}"`], 'x')],
  ['RFC 2231 filename*= (percent-encoded)', CT, mp([`Content-Disposition: form-data; name="f"; filename*=utf-8''${pctAll(KEY)}`], 'x')],
  ['RFC 2231 continuations', CT, mp([`Content-Disposition: form-data; name="f"; filename*0*=utf-8''${pctAll(KEY.slice(0, 10))}; filename*1*=${pctAll(KEY.slice(10))}`], 'x')],
  ['Content-Transfer-Encoding: quoted-printable', CT, mp([CD, 'Content-Transfer-Encoding: quoted-printable'], qpAll(KEY))],
  ['Content-Transfer-Encoding: base64', CT, mp([CD, 'Content-Transfer-Encoding: base64'], Buffer.from(`k=${KEY}`).toString('base64'))],
  ['the preamble', CT, `preamble ${KEY}\r\n` + mp([CD], 'x')],
  ['the epilogue', CT, mp([CD], 'x') + `epilogue ${KEY}`],
  ['multipart/mixed nested in a part', CT, mp([CD, 'Content-Type: multipart/mixed; boundary=INNER'], mp(['Content-Transfer-Encoding: quoted-printable'], qpAll(KEY), 'INNER'))],
]

for (const [name, ct, body] of CASES) {
  test(`multipart: the key in ${name} is blocked`, () => {
    const r = scan(ct, body)
    assert.equal(r.action, 'block', `${name}: ${r.detail}`)
    assert.ok(!r.detail.includes(KEY))
  })
}

test('multipart: a duplicated or extended boundary parameter is refused (ambiguous framing)', () => {
  const body = mp([CD], 'hello', 'B0UND')
  for (const ct of ['multipart/form-data; boundary=B0UND; boundary=OTHER', 'multipart/form-data; boundary=B0UND; BOUNDARY="B0UND"', "multipart/form-data; boundary*=utf-8''B0UND"]) {
    const r = scan(ct, body)
    assert.equal(r.action, 'block', ct)
    assert.match(r.detail, /ambiguous multipart boundary|without a valid boundary/, ct)
  }
  assert.equal(scan(CT, body).action, 'allow', 'a clean body with one boundary passes')
})

test('multipart: a part in a Content-Transfer-Encoding the scanner does not undo is refused; the identities pass', () => {
  // `begin 644 a.txt` uuencoded: an upstream parser may decode it (Python's email module does).
  const r = scan(CT, mp([CD, 'Content-Transfer-Encoding: x-uuencode'], 'begin 644 a.txt\r\n404M)05%93%!-3C5(2$A&4%I!33( \r\n`\r\nend'))
  assert.equal(r.action, 'block')
  assert.equal(r.detail, 'multipart part with Content-Transfer-Encoding "x-uuencode" cannot be scanned')
  for (const cte of ['7bit', '8BIT', 'binary']) assert.equal(scan(CT, mp([CD, `Content-Transfer-Encoding: ${cte}`], 'hello')).action, 'allow', cte)
})

test('multipart helpers: parameters, RFC 2231, quoted-printable', () => {
  assert.deepEqual(parseContentType('Multipart/Form-Data; boundary="a;b\\"c"; x=1'), {type: 'multipart/form-data', params: [['boundary', 'a;b"c'], ['x', '1']]})
  assert.equal(multipartBoundary([['boundary', 'abc']]), 'abc')
  assert.deepEqual(decodeParamValues([['filename*', "utf-8''%E2%82%AC%20rates"]]), [['filename', '€ rates']])
  assert.deepEqual(decodeParamValues([['title*0*', "us-ascii'en'a%20"], ['title*1', 'b']]), [['title', 'a b']])
  assert.equal(decodeQuotedPrintable('a=3Db=\r\nc=ZZ').toString('latin1'), 'a=bc=ZZ')
})
