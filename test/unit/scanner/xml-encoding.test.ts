import {test} from 'node:test'
import assert from 'node:assert/strict'
import {xmlEncoding, isXmlMediaType} from '../../../src/plugins/scanner/xml-encoding.js'

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1')

test('xmlEncoding: byte-order marks and the 16- and 32-bit patterns of `<?` (XML 1.0 Appendix F)', () => {
  assert.equal(xmlEncoding(Buffer.from('\ufeff<a/>', 'utf16le')), 'utf-16le')
  assert.equal(xmlEncoding(Buffer.from('\ufeff<a/>', 'utf16le').swap16()), 'utf-16be')
  assert.equal(xmlEncoding(Buffer.from('<?xml version="1.0"?><a/>', 'utf16le')), 'utf-16le')
  assert.equal(xmlEncoding(Buffer.from('<?xml version="1.0"?><a/>', 'utf16le').swap16()), 'utf-16be')
  assert.equal(xmlEncoding(Buffer.from([0x00, 0x00, 0xfe, 0xff, 0, 0, 0, 0x3c])), 'utf-32')
  assert.equal(xmlEncoding(Buffer.from([0x3c, 0x00, 0x00, 0x00, 0x3f, 0, 0, 0])), 'utf-32')
  // EBCDIC `<?xm`: no decoder knows the label returned.
  assert.equal(xmlEncoding(Buffer.from([0x4c, 0x6f, 0xa7, 0x94])), 'ebcdic')
})

test('xmlEncoding: the declaration\'s encoding, UTF-8 and none as null, a bad name as unreadable', () => {
  assert.equal(xmlEncoding(ascii('<?xml version="1.0" encoding="Shift_JIS"?><a/>')), 'shift_jis')
  assert.equal(xmlEncoding(ascii("<?xml version='1.0' encoding = 'ISO-2022-JP' standalone='yes'?><a/>")), 'iso-2022-jp')
  assert.equal(xmlEncoding(ascii('<?xml version="1.0" encoding="UTF-8"?><a/>')), null)
  assert.equal(xmlEncoding(ascii('<?xml version="1.0"?><a/>')), null)
  assert.equal(xmlEncoding(ascii('<a encoding="shift_jis"/>')), null)
  assert.equal(xmlEncoding(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ascii('<?xml version="1.0" encoding="shift_jis"?>')])), null)
  assert.equal(xmlEncoding(ascii('<?xml version="1.0" encoding="utf 8;x"?><a/>')), 'ebcdic')
  assert.equal(xmlEncoding(new Uint8Array(0)), null)
})

test('isXmlMediaType: text/xml, application/xml and +xml suffixes', () => {
  for (const t of ['text/xml', 'application/xml', 'application/soap+xml', 'image/svg+xml']) assert.ok(isXmlMediaType(t), t)
  for (const t of ['text/plain', 'application/json', 'application/xml-dtd', '']) assert.ok(!isXmlMediaType(t), t)
})
