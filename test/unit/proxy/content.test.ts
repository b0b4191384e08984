import assert from 'node:assert/strict'
import {test} from 'node:test'
import RE2 from 're2'
import {applyMediaPolicy, createHiddenExtractor, extractHtmlText, sniffMediaType, stripJpegMetadata, stripPngMetadata, type MediaPolicySettings} from '../../../src/plugins/proxy/index.js'

test('HTML text extraction: title, visible text, no scripts/styles/comments, entities decoded', () => {
  const page = extractHtmlText('<html><head><title> A &amp; B </title><style>p{}</style></head><body><!-- c --><h1>Head</h1><p>x &lt; y&#33;</p><script>evil()</script><noscript>n</noscript></body></html>')
  assert.deepEqual(page, {title: 'A & B', content: 'Head\nx < y!'})
  assert.deepEqual(extractHtmlText('plain <b>bold'), {title: '', content: 'plain bold'})
  assert.deepEqual(extractHtmlText('<p>unterminated <a href="x'), {title: '', content: 'unterminated'})
})

test('hidden content extraction uses the four spec patterns', () => {
  const h = createHiddenExtractor().hidden('<p>v</p><!--c1--><script>s1</script><style>st</style><div style="display: none">h1</div><span hidden>h2</span>')
  assert.deepEqual(h.split('\n').sort(), ['c1', 'h1', 'h2', 's1', 'st'])
})

test('hidden content read from the page\'s bytes is what the patterns find in the page as a string', () => {
  // The oracle: the four patterns matched against the string, every match in turn.
  const oracle = ['<!--(.*?)-->', '<script[^>]*>(.*?)</script>', '<style[^>]*>(.*?)</style>', '<[a-z][a-z0-9]*\\b(?:[^>]*?(?:display\\s*:\\s*none|visibility\\s*:\\s*hidden)|[^>]*?\\shidden)[^>]*>(.*?)</']
    .map((src, i) => new RE2(src, i === 0 ? 'gsu' : 'gsiu'))
  const expected = (html: string): string => oracle.flatMap((re) => [...html.matchAll(re as unknown as RegExp)].map((m) => m[1] ?? '').filter((p) => p !== '')).join('\n')
  const pieces = [
    'text ', '<!-- a comment -->', '<!--', '-->', '<script type="module">let a = 1</script>', '<SCRIPT>B()</SCRIPT>', '<\u017fcript>long s</script>',
    '<style>.x{}</style>', '<div style="display : none">gone</div>', '<span style="visibility:hidden">v</span>', '<p hidden>h</p>', '<p\thidden>t</p>',
    '<div class=x>', '</div>', '<', '>', 'caf\u00e9 ', '\u{1F600}', '\ud800', '\udc00x', '\r\n', 'K\u212a ', '\u0130 ', 'ignore all previous instructions ',
  ]
  let seed = 7
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648)
  const extractor = createHiddenExtractor()
  for (let n = 0; n < 400; n++) {
    let page = ''
    for (let k = next() % 40; k > 0; k--) page += pieces[next() % pieces.length]!
    assert.equal(extractor.hidden(page), expected(page), JSON.stringify(page))
  }
})

test('text extraction stays linear on hostile input', () => {
  const evil = '<a'.repeat(50_000) + '<!--'.repeat(10_000) + '<script>'.repeat(10_000)
  const page = extractHtmlText(evil)
  assert.equal(typeof page.content, 'string')
})

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  return Buffer.concat([len, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)])
}
const png = Buffer.concat([PNG_SIG, chunk('IHDR', Buffer.alloc(13)), chunk('tEXt', Buffer.from('Comment\0secret')), chunk('IDAT', Buffer.from([1, 2])), chunk('IEND', Buffer.alloc(0))])
const jpeg = Buffer.concat([
  Buffer.from([0xff, 0xd8]),
  Buffer.from([0xff, 0xe0, 0x00, 0x04, 0x4a, 0x46]), // APP0 kept
  Buffer.from([0xff, 0xe1, 0x00, 0x06, 0x45, 0x78, 0x69, 0x66]), // APP1 (Exif) dropped
  Buffer.from([0xff, 0xfe, 0x00, 0x04, 0x68, 0x69]), // COM dropped
  Buffer.from([0xff, 0xda, 0x00, 0x02, 0x11, 0x22, 0xff, 0xd9]),
])

test('PNG and JPEG metadata segments are removed; broken structure is refused', () => {
  const p = stripPngMetadata(png)!
  assert.ok(!p.includes(Buffer.from('secret')))
  assert.ok(p.includes(Buffer.from('IDAT')))
  assert.equal(stripPngMetadata(png.subarray(0, png.length - 6)), null)
  const j = stripJpegMetadata(jpeg)!
  assert.deepEqual([...j], [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x4a, 0x46, 0xff, 0xda, 0x00, 0x02, 0x11, 0x22, 0xff, 0xd9])
  assert.equal(stripJpegMetadata(Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x40])), null)
})

test('sniffing and media decisions (§4.7)', () => {
  assert.equal(sniffMediaType(png), 'image/png')
  assert.equal(sniffMediaType(jpeg), 'image/jpeg')
  assert.equal(sniffMediaType(Buffer.from('GIF89a....')), 'image/gif')
  assert.equal(sniffMediaType(Buffer.from('ID3\x03\x00')), 'audio/mpeg')
  assert.equal(sniffMediaType(Buffer.from('hello')), 'text/plain; charset=utf-8')
  assert.equal(sniffMediaType(Buffer.from([0, 1, 2, 3])), 'application/octet-stream')
  const s: MediaPolicySettings = {enabled: true, stripImages: false, stripAudio: true, stripVideo: true, allowedImageTypes: ['image/png', 'image/jpeg'], stripImageMetadata: true, maxImageBytes: 100}
  assert.deepEqual(applyMediaPolicy(s, 'audio/ogg', Buffer.alloc(1)), {kind: 'block', mediaType: 'audio/ogg', detail: 'media_policy: audio stripped'})
  assert.deepEqual(applyMediaPolicy(s, 'video/mp4', Buffer.alloc(1)), {kind: 'block', mediaType: 'video/mp4', detail: 'media_policy: video stripped'})
  assert.deepEqual(applyMediaPolicy(s, 'application/octet-stream', Buffer.from('GIF89a')), {kind: 'block', mediaType: 'image/gif', detail: 'media_policy: image type "image/gif" not in allowed list'})
  assert.deepEqual(applyMediaPolicy(s, 'image/png', Buffer.alloc(101)), {kind: 'block', mediaType: 'image/png', detail: 'media_policy: image size 101 exceeds limit 100'})
  const ok = applyMediaPolicy({...s, maxImageBytes: 1000}, 'image/png; x=y', png)
  assert.equal(ok.kind, 'pass')
  assert.ok(ok.kind === 'pass' && !ok.body.includes(Buffer.from('secret')))
  assert.equal(applyMediaPolicy({...s, maxImageBytes: 1000}, 'image/png', Buffer.concat([PNG_SIG, Buffer.from('junk')])).kind, 'block')
  assert.equal(applyMediaPolicy(s, 'text/html', Buffer.from('<p>')).kind, 'pass')
  assert.equal(applyMediaPolicy({...s, enabled: false}, 'audio/ogg', Buffer.alloc(1)).kind, 'pass')
})
