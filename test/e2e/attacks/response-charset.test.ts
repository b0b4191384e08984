/**
 * Attack class: a prompt injection in a response whose Content-Type declares a charset the UTF-8
 * reading does not show — EBCDIC, UTF-7, fullwidth letters in UTF-16BE. A client that honours the
 * label (Python's requests, httpx) reads the instruction; the proxy reads the body in that
 * charset too, and refuses a charset it cannot decode.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {rawHttp} from '../proxy-harness.js'
import {attackRig} from './attack-harness.js'

describe('attacks: an injection in the charset the response declares', {timeout: 60_000}, () => {
  const rig = attackRig()
  const typed = (enc: string, ct: string): string => `http://127.0.0.1:${rig.up.port}/typed?enc=${enc}&ct=${encodeURIComponent(ct)}`

  it('fullwidth letters in UTF-16BE are read and blocked (forward proxy)', async () => {
    const r = await rawHttp(rig.proxy.port, {path: typed('utf-16be-fullwidth', 'text/plain; charset=utf-16be')})
    assert.equal(r.status, 403, r.body)
    assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection')
  })

  it('a charset that cannot be decoded here (EBCDIC, UTF-7) is refused, never relayed', async () => {
    for (const [enc, charset] of [['cp500', 'cp500'], ['cp500', 'IBM037'], ['utf-7', 'utf-7'], ['cp500', '"utf-8"; charset=cp500']]) {
      const r = await rawHttp(rig.proxy.port, {path: typed(enc!, `text/html; charset=${charset}`)})
      assert.equal(r.status, 403, `${charset}: ${r.status}`)
      assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection', charset)
      assert.ok(!r.body.includes('gnore'), charset)
    }
    const blocked = rig.proxy.stdout().split('\n').filter((l) => l.includes('cannot be scanned'))
    assert.ok(blocked.some((l) => l.includes('response in charset cp500 cannot be scanned')), blocked.join('\n'))
  })

  it('an HTML page without a header charset is read in the charset its <meta> declares (forward proxy)', async () => {
    // UTF-7 cannot be decoded here: refused, as the same label in the header is.
    const utf7 = await rawHttp(rig.proxy.port, {path: typed('html-meta-utf-7', 'text/html')})
    assert.equal(utf7.status, 403, utf7.body)
    assert.equal(utf7.headers['x-pipelock-block-reason'], 'prompt_injection')
    assert.ok(!utf7.body.includes('gnore'))
    assert.ok(rig.proxy.stdout().split('\n').some((l) => l.includes('response in charset utf-7 cannot be scanned')))
    // UTF-16LE: fullwidth letters a reader of that charset sees, read and blocked.
    const utf16 = await rawHttp(rig.proxy.port, {path: typed('html-meta-utf-16le', 'text/html')})
    assert.equal(utf16.status, 403, utf16.body)
    assert.equal(utf16.headers['x-pipelock-block-reason'], 'prompt_injection')
    // A charset in the header wins over the markup's, as in a browser: the page is read as UTF-8 and relayed.
    const labelled = await rawHttp(rig.proxy.port, {path: typed('html-meta-utf-7', 'text/html; charset=utf-8')})
    assert.equal(labelled.status, 200)
    assert.ok(labelled.body.includes('+AEk-gnore'))
    // A clean page in the charset it declares: relayed unchanged.
    const clean = await rawHttp(rig.proxy.port, {path: typed('html-meta-latin1-clean', 'text/html')})
    assert.equal(clean.status, 200)
    assert.equal(clean.body, '<html><head><meta charset="iso-8859-1"></head><body><p>Caf\ufffd cr\ufffdme.</p></body></html>')
  })

  it('a clean Latin-1 page is relayed unchanged', async () => {
    const r = await rawHttp(rig.proxy.port, {path: typed('latin1-clean', 'text/plain; charset=iso-8859-1')})
    assert.equal(r.status, 200)
    // rawHttp reads the body as UTF-8: each Latin-1 accent is one U+FFFD, the rest as sent.
    assert.equal(r.body, 'Caf\ufffd cr\ufffdme, na\ufffdve r\ufffdsum\ufffd.')
  })
})
