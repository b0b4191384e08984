/**
 * Attack class: a key in a request body whose Content-Type declares a charset other than UTF-8.
 * A server that honours the label reads fullwidth letters (which normalise to the key) from
 * Shift_JIS, ISO-2022-JP or UTF-16BE bytes that the body's UTF-8 reading does not show as the
 * key; EBCDIC and UTF-7 cannot be decoded by the scanner at all. Sent through the built forward
 * proxy; the logging upstream must see none of it, and a clean body in a declared charset passes.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {Client} from 'undici'
import {attackRig, AWS_KEY} from './attack-harness.js'

/** The key in fullwidth letters and digits (U+FF21…, U+FF10…): NFKC gives the key back. */
const FULLWIDTH = [...AWS_KEY].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('')

/** Fullwidth letters and digits in Shift_JIS: 0x82 then 0x60 + n (A–Z) or 0x4f + n (0–9). */
function shiftJis(s: string): Buffer {
  return Buffer.from([...s].flatMap((c) => (/[A-Z]/.test(c) ? [0x82, 0x60 + c.charCodeAt(0) - 65] : [0x82, 0x4f + c.charCodeAt(0) - 48])))
}

/** Fullwidth letters and digits in ISO-2022-JP: `ESC $ B`, JIS row 3 (`#A` is Ａ), `ESC ( B`. */
function iso2022jp(s: string): Buffer {
  return Buffer.concat([Buffer.from('note \x1b$B'), Buffer.from([...s].map((c) => '#' + c).join('')), Buffer.from('\x1b(B end')])
}

/** EBCDIC (code page 500) for upper-case letters and digits. */
function cp500(s: string): Buffer {
  const code = (c: string): number => {
    const n = c.charCodeAt(0)
    if (n >= 48 && n <= 57) return 0xf0 + n - 48
    const i = n - 65
    return i < 9 ? 0xc1 + i : i < 18 ? 0xd1 + i - 9 : 0xe2 + i - 18
  }
  return Buffer.from([...s].map(code))
}

const REFUSED: Array<[string, string, Buffer]> = [
  ['Shift_JIS fullwidth key in text/plain', 'text/plain; charset=shift_jis', Buffer.concat([Buffer.from('note '), shiftJis(AWS_KEY), Buffer.from(' end')])],
  ['Shift_JIS fullwidth key in a JSON string', 'application/json; charset=Shift_JIS', Buffer.concat([Buffer.from('{"k":"'), shiftJis(AWS_KEY), Buffer.from('"}')])],
  ['ISO-2022-JP fullwidth key', 'text/plain; charset=iso-2022-jp', iso2022jp(AWS_KEY)],
  ['UTF-16BE fullwidth key', 'text/plain; charset="utf-16be"', Buffer.from(`note ${FULLWIDTH} end`, 'utf16le').swap16()],
]

const UNREADABLE: Array<[string, string, Buffer]> = [
  ['EBCDIC (cp500) key', 'text/plain; charset=cp500', cp500(AWS_KEY)],
  // `+AEEASwBJAEE-` is `AKIA`; the rest of the key in base64 UTF-16 as well.
  ['UTF-7 key', 'text/plain; charset=utf-7', Buffer.from(`note +${Buffer.from(AWS_KEY, 'utf16le').swap16().toString('base64').replace(/=+$/, '')}- end`)],
]

const pct = (b: Buffer): string => [...b].map((x) => '%' + x.toString(16).toUpperCase().padStart(2, '0')).join('')
/** One multipart/form-data field `f` with the given part headers and content (boundary XB). */
const field = (headers: string[], content: Buffer): Buffer =>
  Buffer.concat([Buffer.from(['--XB', 'Content-Disposition: form-data; name="f"', ...headers, '', ''].join('\r\n')), content, Buffer.from('\r\n--XB--\r\n')])
const MULTIPART = 'multipart/form-data; boundary=XB'

/** The charset is a form's (its percent escapes are bytes in it) or a multipart part's own. */
const FIELDS: Array<[string, string, Buffer]> = [
  ['a form field as percent-escaped Shift_JIS', 'application/x-www-form-urlencoded; charset=shift_jis', Buffer.from(`note=hello&k=${pct(shiftJis(AWS_KEY))}`)],
  ['a form field as percent-escaped UTF-16BE', 'application/x-www-form-urlencoded; charset=utf-16be', Buffer.from(`k=${pct(Buffer.from(FULLWIDTH, 'utf16le').swap16())}`)],
  ['a multipart part in Shift_JIS', MULTIPART, field(['Content-Type: text/plain; charset=shift_jis'], shiftJis(AWS_KEY))],
  ['a base64 multipart part in Shift_JIS', MULTIPART, field(['Content-Type: text/plain; charset=shift_jis', 'Content-Transfer-Encoding: base64'], Buffer.from(shiftJis(AWS_KEY).toString('base64')))],
  ['a multipart part in UTF-16BE', MULTIPART, field(['Content-Type: text/plain; charset=utf-16be'], Buffer.from(FULLWIDTH, 'utf16le').swap16())],
]

/** An XML document with no charset in its Content-Type names its own encoding (XML 1.0 Appendix F). */
const xmlUtf16 = (text: string, bom = true): Buffer => Buffer.from(`${bom ? '\ufeff' : ''}<?xml version="1.0" encoding="UTF-16"?><note>${text}</note>`, 'utf16le')
const XML: Array<[string, string, Buffer]> = [
  ['UTF-16LE with a byte-order mark', 'application/xml', xmlUtf16(FULLWIDTH)],
  ['UTF-16LE without one (`<?` as 3C 00 3F 00)', 'application/soap+xml', xmlUtf16(FULLWIDTH, false)],
  ['Shift_JIS named by its declaration', 'text/xml', Buffer.concat([Buffer.from('<?xml version="1.0" encoding="Shift_JIS"?><note>'), shiftJis(AWS_KEY), Buffer.from('</note>')])],
]

describe('attacks: request bodies in a declared charset', {timeout: 60_000}, () => {
  const rig = attackRig()

  async function post(ct: string, body: Buffer): Promise<{status: number; text: string}> {
    const client = new Client(`http://${rig.proxy.addr}`)
    try {
      const r = await client.request({method: 'POST', path: `http://127.0.0.1:${rig.up.port}/upload`, headers: {'content-type': ct}, body})
      return {status: r.statusCode, text: await r.body.text()}
    } finally {
      await client.close()
    }
  }

  /** Posts `body` and asserts a 403 whose text matches `detail`, with nothing sent upstream. */
  async function refusedBeforeUpstream(name: string, ct: string, body: Buffer, detail: RegExp): Promise<{status: number; text: string}> {
    rig.up.reset()
    const r = await post(ct, body)
    assert.equal(r.status, 403, name)
    assert.match(r.text, detail, name)
    assert.equal(rig.up.requests.length, 0, name)
    return r
  }

  const DLP_HIT = /request body DLP match: AWS Access ID/

  for (const [name, ct, body] of REFUSED) {
    it(`the forward proxy reads the declared charset: ${name} is refused before the upstream`, async () => {
      const r = await refusedBeforeUpstream(name, ct, body, DLP_HIT)
      assert.doesNotMatch(r.text, new RegExp(AWS_KEY), name)
      assert.ok(!rig.up.received().includes('upload'), name)
    })
  }

  for (const [name, ct, body] of UNREADABLE) {
    it(`a charset the scanner cannot decode fails closed: ${name}`, async () => {
      await refusedBeforeUpstream(name, ct, body, /request body in charset (cp500|utf-7) cannot be scanned/)
    })
  }

  for (const [name, ct, body] of FIELDS) {
    it(`form fields and parts are read in their charset: ${name} is refused before the upstream`, async () => {
      await refusedBeforeUpstream(name, ct, body, DLP_HIT)
    })
  }

  it('a multipart form\'s _charset_ field (RFC 7578 §4.6) names the charset of its unlabelled parts', async () => {
    rig.up.reset()
    const charsetField = (v: string): Buffer => Buffer.from(`--XB\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n${v}\r\n`)
    // The field after the part it applies to: every field is seen before the parts are read again.
    const after = Buffer.concat([field([], shiftJis(AWS_KEY)).subarray(0, -8), Buffer.from('\r\n'), charsetField('Shift_JIS'), Buffer.from('--XB--\r\n')])
    const before = Buffer.concat([charsetField('shift_jis'), field([], shiftJis(AWS_KEY))])
    const odd = Buffer.concat([charsetField('x;"y'), field([], Buffer.from('hello'))])
    const clean = Buffer.concat([charsetField('shift_jis'), field([], shiftJis('HELLO'))])
    const [a, b, c, d] = [await post(MULTIPART, before), await post(MULTIPART, after), await post(MULTIPART, odd), await post(MULTIPART, clean)]
    assert.deepEqual([a.status, b.status, c.status, d.status], [403, 403, 403, 200])
    assert.match(a.text, /request body DLP match: AWS Access ID/)
    assert.match(c.text, /multipart _charset_ field cannot be scanned/)
    assert.equal(rig.up.requests.length, 1)
  })

  it('a multipart part in a charset the scanner cannot decode fails closed', async () => {
    rig.up.reset()
    const r = await post(MULTIPART, field(['Content-Type: text/plain; charset=cp500'], cp500(AWS_KEY)))
    assert.equal(r.status, 403)
    assert.match(r.text, /multipart part in charset cp500 cannot be scanned/)
    assert.equal(rig.up.requests.length, 0)
  })

  it('clean form fields and parts in a declared charset are forwarded', async () => {
    rig.up.reset()
    const form = await post('application/x-www-form-urlencoded; charset=shift_jis', Buffer.from(`k=${pct(shiftJis('HELLO'))}&n=caf%E9`))
    const part = await post(MULTIPART, field(['Content-Type: text/plain; charset=shift_jis'], shiftJis('HELLO')))
    assert.deepEqual([form.status, part.status], [200, 200])
    assert.equal(rig.up.requests.length, 2)
  })

  for (const [name, ct, body] of XML) {
    it(`an XML document is read in the encoding it declares: ${name} is refused before the upstream`, async () => {
      await refusedBeforeUpstream(name, ct, body, DLP_HIT)
    })
  }

  it('an XML document in an encoding the scanner cannot decode fails closed; clean XML passes', async () => {
    rig.up.reset()
    const utf7 = await post('application/xml', Buffer.from('<?xml version="1.0" encoding="UTF-7"?><note>+AEEASwBJAEE-</note>'))
    assert.equal(utf7.status, 403)
    assert.match(utf7.text, /request body in charset utf-7 cannot be scanned/)
    assert.equal(rig.up.requests.length, 0)
    const clean = await post('application/xml', xmlUtf16('Caf\u00e9 cr\u00e8me'))
    const declaredUtf8 = await post('text/xml', Buffer.from('<?xml version="1.0" encoding="utf-8"?><note>Caf\u00e9</note>'))
    assert.deepEqual([clean.status, declaredUtf8.status], [200, 200])
    assert.equal(rig.up.requests.length, 2)
  })

  it('a clean body in a declared charset is forwarded byte for byte', async () => {
    rig.up.reset()
    const body = Buffer.concat([Buffer.from('Caf\u00e9 cr\u00e8me ', 'latin1'), shiftJis('HELLO')])
    for (const ct of ['text/plain; charset=iso-8859-1', 'text/plain; charset=shift_jis']) {
      const r = await post(ct, body)
      assert.equal(r.status, 200, ct)
    }
    assert.equal(rig.up.requests.length, 2)
    assert.ok(Buffer.from(rig.up.received(), 'latin1').includes(body))
  })
})
