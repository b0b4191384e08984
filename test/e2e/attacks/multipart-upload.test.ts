/**
 * Attack class (issue 10 item 4): a key hidden in the parts of a multipart upload the body
 * scanner used to skip. Driven through the built forward proxy with curl (-F with custom part
 * headers) and undici (hand-built bodies); the logging upstream must see none of it.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {Client} from 'undici'
import {attackRig, AWS_KEY, curl, hasCurl} from './attack-harness.js'

const qp = (s: string): string => [...Buffer.from(s)].map((b) => '=' + b.toString(16).toUpperCase().padStart(2, '0')).join('')
const pct = (s: string): string => [...Buffer.from(s)].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('')
const part = (headers: string[], content: string, b = 'XB'): string => [`--${b}`, ...headers, '', content, `--${b}--`, ''].join('\r\n')
/** Two form fields, `a` then `b`. */
const twoFields = (a: string, b: string): string => ['--XB', 'Content-Disposition: form-data; name="a"', '', a, '--XB', 'Content-Disposition: form-data; name="b"', '', b, '--XB--', ''].join('\r\n')

const BODIES: Array<[string, string, string]> = [
  ['part header', 'multipart/form-data; boundary=XB', part(['Content-Disposition: form-data; name="f"', `X-Trace: ${AWS_KEY}`], 'x')],
  ['Content-Disposition parameter', 'multipart/form-data; boundary=XB', part([`Content-Disposition: form-data; name="f"; creation-date="${AWS_KEY}"`], 'x')],
  ['part Content-Type parameter', 'multipart/form-data; boundary=XB', part(['Content-Disposition: form-data; name="f"', `Content-Type: text/plain; x="${AWS_KEY}"`], 'x')],
  ['filename*=', 'multipart/form-data; boundary=XB', part([`Content-Disposition: form-data; name="f"; filename*=utf-8''${pct(AWS_KEY)}`], 'x')],
  ['quoted-printable', 'multipart/form-data; boundary=XB', part(['Content-Disposition: form-data; name="f"', 'Content-Transfer-Encoding: quoted-printable'], qp(AWS_KEY))],
  ['duplicated boundary', 'multipart/form-data; boundary=XB; boundary=YB', part(['Content-Disposition: form-data; name="f"'], 'clean')],
  // Pieces joined as a form's fields are (issue 37): in order, shuffled.
  ['key split across two fields', 'multipart/form-data; boundary=XB', twoFields(AWS_KEY.slice(0, 10), AWS_KEY.slice(10))],
  ['key split across two fields, shuffled', 'multipart/form-data; boundary=XB', twoFields(AWS_KEY.slice(10), AWS_KEY.slice(0, 10))],
]

describe('attacks: multipart uploads', {timeout: 60_000}, () => {
  // The default action (warn) blocks critical DLP hits; the suite's config says block outright.
  const rig = attackRig()

  for (const [name, ct, body] of BODIES) {
    it(`undici through the forward proxy: ${name} is refused before the upstream`, async () => {
      rig.up.reset()
      // An absolute-form request line, as a forward-proxy client sends it.
      const client = new Client(`http://${rig.proxy.addr}`)
      const r = await client.request({method: 'POST', path: `http://127.0.0.1:${rig.up.port}/upload`, headers: {'content-type': ct}, body})
      await r.body.text()
      await client.close()
      assert.equal(r.statusCode, 403, name)
      assert.equal(rig.up.requests.length, 0, name)
      assert.ok(!rig.up.received().includes('upload'), name)
    })
  }

  it('curl -F with a custom part header carrying the key is refused', {skip: !hasCurl && 'curl not installed'}, async () => {
    rig.up.reset()
    const r = await curl(['-x', `http://${rig.proxy.addr}`, '-w', '\n%{http_code}', '-F', `f=hello;headers="X-Trace: ${AWS_KEY}"`, `http://127.0.0.1:${rig.up.port}/upload`])
    assert.ok(r.stdout.endsWith('\n403'), r.stdout)
    assert.equal(rig.up.requests.length, 0)
  })

  it('curl -F with the key split across two fields is refused', {skip: !hasCurl && 'curl not installed'}, async () => {
    rig.up.reset()
    const r = await curl(['-x', `http://${rig.proxy.addr}`, '-w', '\n%{http_code}', '-F', `a=${AWS_KEY.slice(0, 10)}`, '-F', `b=${AWS_KEY.slice(10)}`, `http://127.0.0.1:${rig.up.port}/upload`])
    assert.ok(r.stdout.endsWith('\n403'), r.stdout)
    assert.equal(rig.up.requests.length, 0)
  })

  it('a clean multipart upload still goes through', {skip: !hasCurl && 'curl not installed'}, async () => {
    rig.up.reset()
    const r = await curl(['-x', `http://${rig.proxy.addr}`, '-w', '\n%{http_code}', '-F', 'f=hello', `http://127.0.0.1:${rig.up.port}/upload`])
    assert.ok(r.stdout.endsWith('\n200'), r.stdout)
    assert.equal(rig.up.requests.length, 1)
  })
})
