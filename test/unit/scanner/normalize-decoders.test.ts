import {test} from 'node:test'
import assert from 'node:assert/strict'
import {goEscapedPath, goHostname, goUnescape, goUrlString, parseGoUrl, splitQuery} from '../../../src/plugins/canonical/index.js'
import {
  createNormalizer, stripControlChars, stripZeroWidth, replaceInvisibleWithSpace, stripExoticWhitespace,
  mapExoticWhitespace, leetspeak, foldVowels, CONFUSABLE_GROUPS_COUNT,
  decodeHexStrict, decodeHexNormalised, decodeBase64Variants, decodeBase32Std, iterativeDecode, stripNoise,
  canonicaliseAltIPv4, inetAtonShortForm, parseIp, formatIp, unmap, parseCidr, cidrContains,
  matchDomain, approximateRegistrableDomain, shannonEntropy,
  REASON_CODES, reasonForLabel, validLayer,
} from '../../../src/plugins/scanner/index.js'

test('§8 passes', () => {
  const n = createNormalizer()
  assert.equal(stripControlChars('a\tb\nc\u0000d\u007fe\u0085f\u200bg\u{E0041}h'), 'abcdefgh')
  assert.equal(stripZeroWidth('a\tb\nc\u0000d\u200be'), 'a\tb\ncde')
  assert.equal(replaceInvisibleWithSpace('a\u200bb\u00adc'), 'a b c')
  assert.equal(stripExoticWhitespace('a\u00a0b\u3000c d'), 'abc d')
  assert.equal(mapExoticWhitespace('a\u00a0b\u2028c'), 'a b c')
  assert.equal(leetspeak('1gn0r3 @ll $7uff 4 5'), 'ignore all stuff a s')
  assert.equal(foldVowels('AEIOU aeiou xyz'), 'AAAAA aaaaa xyz')
  assert.equal(n.confusableToAscii('\u0410\u0412\u0421 \u043e\u0440 \u{1F170}'), 'ABC op A')
  assert.equal(n.stripCombiningMarks('café'), 'cafe')
  assert.equal(n.forDlp('ｓｋ-ant\u200b-\u0430bc\u00a0d'), 'sk-ant-abcd')
  assert.equal(n.forMatching('ign\u200bore\u00a0all'), 'ignore all')
  assert.equal(n.forMatching('tab\tkept'), 'tab\tkept')
  assert.equal(CONFUSABLE_GROUPS_COUNT, 151)
})

test('forDlp of long texts (the fast paths from 256 units) equals the §8 passes in order', () => {
  const n = createNormalizer()
  // §8 ForDLP written out: controls and invisibles, exotic white space, NFKC, confusables, marks.
  const passes = (s: string) => n.stripCombiningMarks(n.confusableToAscii(stripExoticWhitespace(stripControlChars(s)).normalize('NFKC')))
  const line = 'the build finished in 12 ms; the quick brown fox jumps over the lazy dog.'
  const body = Array.from({length: 8}, (_, i) => `${i}: ${line}`).join('\n')
  assert.ok(body.length >= 256)
  // Printable ASCII; with line breaks and tabs; then one unit that is not ASCII or is DEL, at the
  // end (after every unit the class search stopped at), in the middle, or at the start.
  const odd = ['\u007f', '\u0080', '\u00e9', '\u00a0', '\u200b', '\ud800', '\udc00', '\u{1F600}', '\u0430', '\uff41', 'e\u0301', '\u0085']
  // Line breaks every 80 units (the native strip of controls) and tabs every few (the compaction).
  const tabbed = body.replace(/ /g, '\t')
  const texts = [body.replace(/\n/g, ' '), body, tabbed, `${body}\r\n`]
  for (const o of odd) texts.push(body.replace(/\n/g, ' ') + o, body + o, o + body, body.slice(0, 100) + o + body.slice(100), tabbed + o)
  for (const t of texts) assert.equal(n.forDlp(t), passes(t), JSON.stringify(t.slice(0, 40)))
})

test('forDlp and forMatching of long texts: a control byte or DEL before, at and after the first KiB, and each text read twice', () => {
  const n = createNormalizer()
  const dlp = (s: string) => n.stripCombiningMarks(n.confusableToAscii(stripExoticWhitespace(stripControlChars(s)).normalize('NFKC')))
  const matching = (s: string) => mapExoticWhitespace(n.stripCombiningMarks(n.confusableToAscii(stripZeroWidth(s).normalize('NFKC'))))
  const line = 'the build finished in 12 ms; the quick brown fox jumps over the lazy dog.'
  const long = Array.from({length: 60}, (_, i) => `${i}: ${line}`).join('\n')
  assert.ok(long.length > 3000)
  const texts = [long, long.replace(/\n/g, ' '), long.replace(/ /g, '\t'), long.replace(/\n/g, '\r\n')]
  for (const c of ['\u0000', '\u0001', '\u0008', '\u000b', '\u000c', '\u000e', '\u001b', '\u001f', '\u007f']) {
    for (const at of [0, 500, 1023, 1024, 2000, long.length]) {
      texts.push(long.slice(0, at) + c + long.slice(at), long.replace(/\n/g, ' ').slice(0, at) + c + long.slice(at).replace(/\n/g, ' '))
    }
  }
  // Dense controls in the first KiB (the compaction) with another control far after it.
  texts.push(long.replace(/ /g, '\n').slice(0, 2500) + '\u001b' + long.slice(2500))
  for (const t of texts) {
    const label = JSON.stringify(t.slice(0, 30))
    for (let k = 0; k < 2; k++) {
      assert.equal(n.forDlp(t), dlp(t), `forDlp ${label}`)
      assert.equal(n.forMatching(t), matching(t), `forMatching ${label}`)
      assert.equal(replaceInvisibleWithSpace(t), t.replace(/[\0-\x08\x0b\x0c\x0e-\x1f\x7f]/g, ' '), `replaceInvisibleWithSpace ${label}`)
    }
  }
})

test('strict decoders (Go semantics)', () => {
  assert.equal(decodeHexStrict('414243')?.toString(), 'ABC')
  assert.equal(decodeHexStrict('41424'), null)
  assert.equal(decodeHexStrict('4142zz'), null)
  assert.equal(decodeHexNormalised('\\x41\\x42')?.toString(), 'AB')
  assert.equal(decodeHexNormalised('0x41,0x42')?.toString(), 'AB')
  assert.equal(decodeHexNormalised('41:42:43')?.toString(), 'ABC')
  assert.equal(decodeHexNormalised('41'), null, 'shorter than 4 chars originally')
  const v = (s: string) => decodeBase64Variants(s).map((d) => `${d.variant}=${d.bytes.toString()}`)
  assert.deepEqual(v('aGk='), ['std=hi', 'url=hi'])
  assert.deepEqual(v('aGk'), ['std_raw=hi', 'url_raw=hi'])
  assert.deepEqual(v('a-_a'), ['url=' + Buffer.from('a-_a', 'base64url').toString(), 'url_raw=' + Buffer.from('a-_a', 'base64url').toString()])
  assert.deepEqual(v('aG\r\nk='), ['std=hi', 'url=hi'], 'CR/LF ignored like Go')
  assert.deepEqual(v('aG k='), [], 'space is not ignored')
  assert.deepEqual(v('a+_a'), [], 'mixed alphabets rejected')
  assert.deepEqual(v('a'), [])
  assert.equal(decodeBase32Std('NBUQ====')?.toString(), 'hi')
  assert.equal(decodeBase32Std('NBUQ'), null)
  assert.equal(decodeBase32Std('nbuq===='), null)
  assert.equal(goUnescape('a%20b+c', true), 'a b c')
  assert.equal(goUnescape('a%20b+c', false), 'a b+c')
  assert.equal(goUnescape('%zz', true), null)
  assert.equal(goUnescape('%e4%bd%a0', true), '你')
  assert.equal(iterativeDecode('%25252541'), 'A')
  assert.equal(iterativeDecode('%2541%zz'), '%2541%zz', 'a bad escape anywhere fails the round, like Go')
  assert.equal(stripNoise('a.b/c d\te+f,g;h|i\nj\rk'), 'abcdefghijk')
})

test('Go net/url parsing keeps the path exactly as sent', () => {
  const u = parseGoUrl('HTTP://User:pw@Example.COM:8080/a/%2e%2e/b%2Fc?x=1&y=%zz#frag%20x')
  assert.equal(u.scheme, 'http')
  assert.equal(u.user, 'User:pw')
  assert.equal(u.host, 'Example.COM:8080')
  assert.equal(goHostname(u.host), 'Example.COM')
  assert.equal(u.rawPath, '/a/%2e%2e/b%2Fc')
  assert.equal(u.path, '/a/../b/c')
  assert.equal(u.rawQuery, 'x=1&y=%zz')
  assert.equal(u.fragment, 'frag x')
  assert.equal(goEscapedPath(u), '/a/%2e%2e/b%2Fc')
  assert.equal(goUrlString(u), 'http://User:pw@Example.COM:8080/a/%2e%2e/b%2Fc?x=1&y=%zz#frag%20x')
  assert.deepEqual(splitQuery('a=1&b=%zz&;c=2&&d'), [
    {rawKey: 'a', rawValue: '1', key: 'a', value: '1'},
    {rawKey: 'b', rawValue: '%zz', key: 'b', value: '%zz'},
    {rawKey: ';c', rawValue: '2', key: ';c', value: '2'},
    {rawKey: 'd', rawValue: '', key: 'd', value: ''},
  ])
  assert.equal(goHostname('[::1]:80'), '::1')
  assert.equal(goHostname('[fe80::1%25eth0]'), 'fe80::1%25eth0')
  assert.equal(goEscapedPath(parseGoUrl('http://a/x\\..\\y')), '/x%5C..%5Cy')
  assert.equal(parseGoUrl('http:opaque').opaque, 'opaque')
  for (const bad of ['http://a b/', 'http://[::1/', 'http://a:x/', ':foo', 'http://a/\u0000', 'a:b/c'.replace('a:', '1:')]) {
    assert.throws(() => parseGoUrl(bad), Error, JSON.stringify(bad))
  }
})

test('IP helpers', () => {
  const rows: Array<[string, string | null]> = [
    ['0x7f.0.0.1', '127.0.0.1'], ['0177.0.0.1', '127.0.0.1'], ['0x7f000001', '127.0.0.1'], ['2130706433', '127.0.0.1'],
    ['017700000001', '127.0.0.1'], ['0o177.0.0.1', '127.0.0.1'], ['0b1111111.0.0.1', '127.0.0.1'], ['127.0.0.1', null],
    ['127.1', null], ['0x7f.1', null], ['256.0.0.01', null], ['4294967296', null], ['example.com', null], ['0x', null],
  ]
  for (const [h, want] of rows) assert.equal(canonicaliseAltIPv4(h), want, h)
  assert.equal(inetAtonShortForm('127.1'), '127.0.0.1')
  assert.equal(inetAtonShortForm('0x7f.1'), '127.0.0.1')
  assert.equal(inetAtonShortForm('10.0.258'), '10.0.1.2')
  assert.equal(inetAtonShortForm('a.b'), null)
  assert.equal(parseIp('01.2.3.4'), null, 'Go rejects leading zeros')
  assert.equal(formatIp(unmap(parseIp('::ffff:127.0.0.1')!)), '127.0.0.1')
  assert.equal(formatIp(parseIp('fe80::1%eth0')!), 'fe80::1')
  assert.equal(formatIp(parseIp('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1')
  assert.equal(parseIp('1::2::3'), null)
  assert.ok(cidrContains(parseCidr('fc00::/7')!, parseIp('fd00:ec2::254')!))
  assert.ok(cidrContains(parseCidr('127.0.0.0/8')!, parseIp('::ffff:127.9.9.9')!))
  assert.ok(!cidrContains(parseCidr('172.16.0.0/12')!, parseIp('172.32.0.1')!))
})

test('§5.17 domain matching (rule validation: config checkHostRule, unit/config/entry-rules), registrable domain', () => {
  assert.ok(matchDomain('example.com', '*.example.com'))
  assert.ok(matchDomain('A.B.Example.com.', '*.example.com'))
  assert.ok(!matchDomain('badexample.com', '*.example.com'))
  assert.ok(!matchDomain('a.example.com', 'example.com'))
  assert.ok(matchDomain('10.0.0.1', '10.0.0.1'))
  assert.equal(approximateRegistrableDomain('a.b.example.com'), 'example.com')
  assert.equal(approximateRegistrableDomain('www.bbc.co.uk'), 'bbc.co.uk')
  assert.equal(approximateRegistrableDomain('10.0.0.1'), '10.0.0.1')
})

test('entropy and reason vocabulary', () => {
  assert.equal(shannonEntropy(''), 0)
  assert.equal(shannonEntropy('aaaa'), 0)
  assert.equal(shannonEntropy('abcd'), 2)
  assert.equal(shannonEntropy('😀😁'), 1, 'per code point, not UTF-16 unit')
  assert.equal(Object.keys(REASON_CODES).length, 43, 'the reference v1 vocabulary (40) plus domain_not_allowlisted, identity_not_bound and git_branch_denied')
  for (const [label, code] of [['scheme', 'scheme_blocked'], ['ssrf', 'ssrf_private_ip'], ['core_dlp', 'dlp_match'], ['crlf_injection', 'parse_error'], ['core_ssrf', 'parse_error'], ['allowlist', 'domain_not_allowlisted'], ['context', 'parse_error'], ['databudget', 'data_budget']]) {
    assert.equal(reasonForLabel(label), code, label)
  }
  assert.ok(validLayer('core_dlp'))
  assert.ok(!validLayer('x'.repeat(33)))
  assert.ok(!validLayer('a-b'))
})
