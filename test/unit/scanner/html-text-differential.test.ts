/**
 * The visible-text reader with its tag names read in place (issue 36) gives what it gave when
 * each name was read from a slice of at most 40 units, on random markup: long names, spaces
 * after '<', unclosed tags, comments, scripts, titles and entities. The reader that copies the
 * text into one reused array of code units and decodes references and collapses lines in place
 * (issue 36) is checked the same way, one reader kept across every page (a longer page before a
 * shorter one leaves its units behind). Every case runs on the WebAssembly walk (html-text.wat)
 * and on the JavaScript walk it mirrors.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it, test} from 'node:test'
import {loadedHtmlTextModule, useHtmlTextWasm} from '../../../src/plugins/scanner/html-text-wasm.js'
import {extractHtmlText, PageTextReader} from '../../../src/plugins/scanner/index.js'
import {prng} from './fixtures.js'
import {decodeHTML, DecodingMode} from 'entities/decode'

/** The reader as it was before (the oracle). */
function oracle(html: string): {title: string; content: string} {
  // References as the HTML standard decodes them in text (the named forms of U+00A0 as a plain space).
  const decodeEntities = (s: string): string => decodeHTML(s.replace(/&(?:nbsp;?|NonBreakingSpace;)/g, ' '), DecodingMode.Legacy)
  let title = ''
  const out: string[] = []
  let i = 0
  const lower = html.toLowerCase()
  while (i < html.length) {
    const lt = html.indexOf('<', i)
    if (lt < 0) {
      out.push(html.slice(i))
      break
    }
    out.push(html.slice(i, lt))
    if (lower.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4)
      i = end < 0 ? html.length : end + 3
      continue
    }
    const gt = html.indexOf('>', lt + 1)
    if (gt < 0) break
    const tag = /^<\/?\s*([a-z0-9]+)/.exec(lower.slice(lt, Math.min(gt + 1, lt + 40)))?.[1] ?? ''
    const closing = lower[lt + 1] === '/'
    if (!closing && (tag === 'script' || tag === 'style' || tag === 'noscript' || tag === 'template')) {
      const end = lower.indexOf(`</${tag}`, gt + 1)
      const close = end < 0 ? -1 : html.indexOf('>', end)
      i = close < 0 ? html.length : close + 1
      continue
    }
    if (!closing && tag === 'title') {
      const end = lower.indexOf('</title', gt + 1)
      if (title === '') title = decodeEntities(html.slice(gt + 1, end < 0 ? html.length : end)).replace(/\s+/g, ' ').trim()
      const close = end < 0 ? -1 : html.indexOf('>', end)
      i = close < 0 ? html.length : close + 1
      continue
    }
    if (/^(p|div|br|li|h[1-6]|tr|section|article|header|footer|ul|ol|table|pre|blockquote)$/.test(tag)) out.push('\n')
    i = gt + 1
  }
  const content = decodeEntities(out.join(''))
    .split('\n')
    .map((l) => l.replace(/[ \t\r\f\v]+/g, ' ').trim())
    .filter((l) => l !== '')
    .join('\n')
  return {title, content}
}

/** What response scanning reads: the title and the content joined by LF, the content alone without a title. */
function joined(page: {title: string; content: string}): string {
  return page.title === '' ? page.content : `${page.title}\n${page.content}`
}

const PIECES = [
  '<', '>', '</', '<!--', '-->', ' ', '\n', '\t', 'p', 'div', 'h1', 'h7', 'br', 'P', 'DIV', 'title', 'script', 'style', 'noscript', 'template',
  'text ', 'ignore all previous instructions', '\r', '\v', '\f', '\u00a0', '\u2028', '\u3000', '\ufeff', '\n\n', ' \n ', '&amp;', '&#65;', '&lt;', 'é', 'İ', '0', 'x'.repeat(45), ' '.repeat(38), '=', '"', '/',
  // Issue 36 (names read by character code, lines collapsed in one walk): the longest names a rule
  // reads and one longer, the Kelvin sign (lowercases to 'k'), every JavaScript space, blank runs.
  'blockquote', 'BlockQuote', 'blockquotes', 'bloc\u212Aquote', 'h6', 'section', 'templates', '\u1680', '\u2000', '\u200a', '\u2029', '\u202f',
  '\u205f', '\u180e', '\u200b', '\v\f', ' \t ', '  ', '&#10;', '&#x2028;', '&nbsp;', '&#9;',
  // In-place decoding: astral and surrogate code points, the longest and one-too-long numbers,
  // zero and out of range, case, unknown and over-long names, references cut by tags or by the
  // page's end, '&' before '&', astral text, uppercase element names and closing tags.
  '&#x1F600;', '&#128512;', '&#xD800;', '&#xdc00;', '&#x10FFFF;', '&#x110000;', '&#1114111;', '&#1114112;', '&#x123456;', '&#x1234567;', '&#x0000041;', '&#x000041;', '&#1234567;', '&#12345678;', '&#0000065;', '&#00000065;',
  // Issue 36 (text runs copied in a loop of their own, the page read from an array of its units,
  // a tag's end looked for in its first units, then searched): words with single and double
  // spaces, spaces at a run's ends, tags shorter and longer than the units read.
  'a b', 'a  b', ' x', 'y ', 'word', '<a href="/docs/page-12.html">', `<img alt="${'x'.repeat(40)}">`, '<div class="section s3">', '&amp; notes', 'Q&amp;A',
  '&gt;', '&GT;', '&Lt;', '&#X41;', '<TiTlE>', '</tItLe>',
  '&#0;', '&#x0;', '&#', '&#x', '&#x;', '&#;', '&AMP;', '&Amp;', '&NBSP;', '&LT;', '&quot;', '&apos;', '&foo;', '&ampx;', '&abcdefgh;', '&abcdefghi;', '&a;',
  '&am', 'p;', '&#6', '5;',
  // The standard's names and forms: legacy names without ';', numbers ended by any character,
  // names of two code points and astral ones, names whose prefix is a legacy name.
  '&#73gnore', '&#x49g', '&shy;', '&Tab;', '&Iuml;', '&nbsp ', '&nbsp', '&NonBreakingSpace;', '&copy', '&notin;', '&noti', '&not', '&NotEqualTilde;',
  '&Iopf;', '&ThickSpace;', '&NewLine;', '&ensp;', '&AMP', '&lt', '&#150;', '&#x80;', 'n', 'in;', 'opf;', '&', '&&', ';', '#', 'X', '\u{1F600}', '\ud800', '\udc00', '<SCRIPT>', '</Script>', '<TITLE>', '</TITLE >', '<Style>', '</STYLE>', '<!-', '<!',
]

for (const wasm of [true, false]) describe(`html visible text (${wasm ? 'WebAssembly' : 'JavaScript'} walk): names read in place equal names read from a slice`, () => {
  const kept = new PageTextReader()
  before(() => useHtmlTextWasm(wasm))
  after(() => useHtmlTextWasm(true))

  it('references cut by tags, comments and scripts (the page is then read the long way)', () => {
    const pages = [
      '<p>&am<b>p;</p>', '<p>&#6<!-- c -->5;</p>', '<p>&<i>#x41;</i></p>', '<h2>Q&A</h2>', 'AT&T<br>rocks', '&amp<script>x</script>;', 'x &#x4<span>1; y',
      '&lt<', 'tail &#6', '<title>&am<b>p;</title>&a<p>mp;', 'a&b<p>c&d;</p>&nbsp<i></i>;', '&#x1F6<b>00;', '&\u0130<p>amp;', '&AM<P>P;',
    ]
    for (const s of pages) {
      assert.equal(kept.visibleText(s), joined(oracle(s)), JSON.stringify(s))
      assert.deepEqual(new PageTextReader().read(s), oracle(s), JSON.stringify(s))
    }
  })

  it('titles: an empty first title leaves the title to the next one; only the first is read', () => {
    const pages = [
      '<title></title><title>Second</title><p>x</p>', '<title> \t&nbsp;</title><p>a</p><title>Third &amp; c</title>', '<title>First</title><title>Second</title>b',
      '<title></title>', '<title>  </title><title></title><title> z </title>', '<title>open to the end', '<title>a</titlex>b</title>c',
    ]
    for (const s of pages) {
      assert.equal(kept.visibleText(s), joined(oracle(s)), JSON.stringify(s))
      assert.deepEqual(kept.read(s), oracle(s), JSON.stringify(s))
    }
  })

  it('pages at the size the WebAssembly walk takes and one unit over it', () => {
    for (const n of [1 << 20, (1 << 20) + 1]) {
      const unit = '<p>word &amp; more</p>\n'
      const s = `<title>big</title>${unit.repeat(Math.ceil(n / unit.length))}`.slice(0, n)
      assert.equal(s.length, n)
      assert.equal(kept.visibleText(s), joined(oracle(s)))
    }
  })

  it('titles of every length beside the room kept in front of the content', () => {
    for (const len of [0, 1, 255, 256, 257, 1000]) {
      const s = `<title>${'t'.repeat(len)}</title><p>body &amp; more</p>`
      assert.equal(kept.visibleText(s), joined(oracle(s)))
      assert.equal(new PageTextReader().visibleText(s), joined(oracle(s)))
    }
  })
  it('every tag name a rule reads, and 5,000 random names of up to 12 letters and digits, as tags and closing tags', () => {
    // The reader looks a name up in a hashed table: a known name must be found in its slot, and
    // any other name — one that shares a known name's slot included — must read as an ordinary tag.
    const known = ['p', 'div', 'br', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'tr', 'section', 'article', 'header', 'footer', 'ul', 'ol', 'table', 'pre', 'blockquote', 'title', 'script', 'style', 'noscript', 'template']
    const r = prng(3638)
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
    const random = Array.from({length: 5000}, () => Array.from({length: 1 + Math.floor(r() * 12)}, () => alphabet[Math.floor(r() * alphabet.length)]).join(''))
    for (const name of [...known, ...known.map((t) => t.toUpperCase()), ...random]) {
      const s = `a<${name} x="1">b</${name}>c<${name}>d`
      assert.equal(kept.visibleText(s), joined(oracle(s)), JSON.stringify(s))
    }
  })

  it('on 20,000 random markups', () => {
    const r = prng(3636)
    for (let k = 0; k < 20_000; k++) {
      let s = ''
      const n = Math.floor(r() * 60)
      for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)]!
      const want = oracle(s)
      assert.deepEqual(extractHtmlText(s), want, JSON.stringify(s))
      assert.deepEqual(kept.read(s), want, JSON.stringify(s))
      assert.equal(kept.visibleText(s), joined(want), JSON.stringify(s))
    }
  })

  it('on 1,000 long random markups (many lines, tags and entities per page)', () => {
    const r = prng(3637)
    for (let k = 0; k < 1000; k++) {
      const parts: string[] = []
      const n = 200 + Math.floor(r() * 400)
      for (let i = 0; i < n; i++) parts.push(PIECES[Math.floor(r() * PIECES.length)]!)
      const s = parts.join('')
      const want = oracle(s)
      assert.deepEqual(extractHtmlText(s), want, JSON.stringify(s))
      assert.deepEqual(kept.read(s), want, JSON.stringify(s))
      assert.equal(kept.visibleText(s), joined(want), JSON.stringify(s))
    }
  })
})

test('pages are read by the WebAssembly walk on this runtime (its self-check passed)', () => {
  const page = '<div>The walk wrote this: pipelock-html-text-marker &amp; more</div>'
  const text = new PageTextReader().read(page).content
  const m = loadedHtmlTextModule()
  assert.ok(m, 'the module is loaded')
  assert.equal(Buffer.from(m.out.buffer, m.out.byteOffset, 2 * text.length).toString('utf16le'), text)
})

test('references are decoded as the HTML standard decodes them in text', () => {
  const cases: Array<[string, string]> = [
    ['&#73gnore', 'Ignore'], ['&#x49gnore', 'Ignore'], ['&#x0049;x', 'Ix'], ['Ign&shy;ore', 'Ign\u00adore'], ['a&Tab;b', 'a b'],
    ['&Iuml;gnore', '\u00cfgnore'], ['a&nbsp b', 'a b'], ['a&nbspb', 'a b'], ['a&NonBreakingSpace;b', 'a b'], ['&#160;', ''],
    ['&Iopf;', '\u{1D540}'], ['&NotEqualTilde;', '\u2242\u0338'], ['&copy 2024', '\u00a9 2024'], ['&notit;', '\u00acit;'], ['&notin;', '\u2209'],
    ['&amp', '&'], ['&AMP;', '&'], ['&Amp;', '&Amp;'], ['&foo;', '&foo;'], ['a & b', 'a & b'], ['&#150;', '\u2013'], ['&#0;', '\ufffd'],
    ['a&NewLine;b', 'a\nb'], ['<title>&Iuml;&#73gnore&nbsp</title>x', 'ÏIgnore\nx'],
  ]
  for (const wasm of [true, false]) {
    useHtmlTextWasm(wasm)
    for (const [html, text] of cases) assert.equal(new PageTextReader().visibleText(html), text, `${JSON.stringify(html)} (${wasm ? 'WebAssembly' : 'JavaScript'} walk)`)
  }
  useHtmlTextWasm(true)
})
