/**
 * Attack class (issue 37 item 6): a secret spelt out of pieces in a request body, through the
 * forward proxy of the built CLI with `request_body_scanning.action: block` — as HTML character
 * references, as a JSON array of one-character strings, split across JSON string fields or form
 * fields (in order and shuffled) or between a member's or field's name and its value, and a card
 * number or IBAN inside a body labelled binary. Each
 * refused with 403 and nothing of the secret reaching the upstream.
 */
import assert from 'node:assert/strict'
import {gzipSync} from 'node:zlib'
import {describe, it} from 'node:test'
import {DLP_CASES} from '../../unit/scanner/catalogue-cases.js'
import {attackRig, forwardPost} from './attack-harness.js'

/** Twelve secret families of the scanner's own catalogue cases (the positives, assembled at run time). */
export const FAMILIES = [
  'GitHub Token', 'AWS Access ID', 'Anthropic API Key', 'OpenAI API Key', 'Stripe Key', 'Google API Key',
  'GitLab PAT', 'Slack Token', 'Hugging Face Token', 'SendGrid API Key', 'npm Token', 'Pinecone API Key',
]

export function secretOf(family: string): string {
  const s = DLP_CASES[family]![0]
  // Some positives carry a word of context ("x sk-ant-…"): the secret is the last word.
  return s.split(' ').at(-1)!
}

const decimalRefs = (s: string): string => [...s].map((c) => `&#${c.codePointAt(0)};`).join('')
const hexRefs = (s: string): string => [...s].map((c, k) => (k % 2 === 0 ? `&#x${c.codePointAt(0)!.toString(16)};` : c === '-' ? '&hyphen;' : c === '_' ? '&lowbar;' : c)).join('')
const thirds = (s: string): [string, string, string] => {
  const a = Math.floor(s.length / 3)
  return [s.slice(0, a), s.slice(a, 2 * a), s.slice(2 * a)]
}
const form = (pairs: Array<[string, string]>): string => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')

/** Every way a body spells `secret`, as [label, content type, body]. */
export function piecedBodies(secret: string): Array<[string, string, string]> {
  const [a, b, c] = thirds(secret)
  const half = Math.floor(secret.length / 2)
  const [h1, h2] = [secret.slice(0, half), secret.slice(half)]
  return [
    ['JSON, decimal references', 'application/json', JSON.stringify({note: decimalRefs(secret)})],
    ['JSON, hex and named references', 'application/json', JSON.stringify({note: `see ${hexRefs(secret)} here`})],
    ['form, references', 'application/x-www-form-urlencoded', form([['note', decimalRefs(secret)]])],
    ['text, references', 'text/plain', `token: ${decimalRefs(secret)}`],
    ['JSON, character array', 'application/json', JSON.stringify({id: 7, chars: [...secret], done: true})],
    ['form, one character a field', 'application/x-www-form-urlencoded', form([...secret].map((ch) => ['c', ch] as [string, string]))],
    ['JSON, split fields in order', 'application/json', JSON.stringify({p1: a, p2: b, p3: c})],
    ['JSON, split fields shuffled', 'application/json', JSON.stringify({second: h2, other: 'x', first: h1})],
    ['form, split fields in order', 'application/x-www-form-urlencoded', form([['a', a], ['b', b], ['c', c]])],
    ['form, split fields shuffled', 'application/x-www-form-urlencoded', form([['y', h2], ['z', 'hello'], ['x', h1]])],
    ['JSON, split references', 'application/json', JSON.stringify({p1: decimalRefs(h1), p2: decimalRefs(h2)})],
    ['JSON, a member\'s name and value', 'application/json', JSON.stringify({[h1]: h2, 'B-B': 'x y'})],
    ['form, a field\'s name and value', 'application/x-www-form-urlencoded', `${encodeURIComponent(h1)}=${encodeURIComponent(h2)}&B-B=x+y`],
  ]
}

describe('attacks: secrets spelt out of pieces in request bodies', {timeout: 180_000}, () => {
  const rig = attackRig()

  it('each of 12 families as references, a character array and split fields (JSON and form): 403, nothing upstream', async () => {
    const passed: string[] = []
    for (const family of FAMILIES) {
      const secret = secretOf(family)
      for (const [label, type, body] of piecedBodies(secret)) {
        rig.up.reset()
        const status = await forwardPost(rig.proxy.port, `http://127.0.0.1:${rig.up.port}/`, type, body)
        if (status !== 403) passed.push(`${family} / ${label}: ${status}`)
        assert.equal(rig.up.requests.length, status === 403 ? 0 : 1)
      }
    }
    assert.deepEqual(passed, [])
    assert.ok(!rig.proxy.stdout().includes(secretOf('GitHub Token')), 'no secret in the audit log')
  })

  it('a card number or IBAN inside a body labelled binary is found whatever the label', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
    const passed: string[] = []
    for (const secret of ['4111 1111 1111 1111', '4111111111111111', 'GB82WEST12345698765432', 'GB82 WEST 1234 5698 7654 32']) {
      for (const type of ['application/octet-stream', 'image/png', 'application/zip']) {
        const body = Buffer.concat([png, Buffer.from([0]), Buffer.from(secret), Buffer.from([0, 1, 0xff]), png])
        const status = await forwardPost(rig.proxy.port, `http://127.0.0.1:${rig.up.port}/`, type, body)
        if (status !== 403) passed.push(`${secret} as ${type}: ${status}`)
      }
    }
    assert.deepEqual(passed, [])
  })

  it('a gzip-compressed multipart part is read and scanned; one it cannot read is refused', async () => {
    const secret = secretOf('GitHub Token')
    const part = (headers: string[], content: Buffer): Buffer =>
      Buffer.concat([Buffer.from(['--B', 'Content-Disposition: form-data; name="f"; filename="a.gz"', ...headers, '', ''].join('\r\n')), content, Buffer.from('\r\n--B--\r\n')])
    const type = 'multipart/form-data; boundary=B'
    const target = `http://127.0.0.1:${rig.up.port}/`
    const gz = gzipSync(Buffer.from(`token=${secret}\n`))
    assert.equal(await forwardPost(rig.proxy.port, target, type, part(['Content-Type: application/gzip'], gz)), 403, 'gzip bytes, labelled as such')
    assert.equal(await forwardPost(rig.proxy.port, target, type, part(['Content-Type: text/plain', 'Content-Encoding: gzip'], gz)), 403, 'Content-Encoding: gzip')
    assert.equal(await forwardPost(rig.proxy.port, target, type, part(['Content-Type: text/plain', 'Content-Encoding: zstd'], Buffer.from('opaque'))), 403, 'an encoding it cannot read')
    assert.equal(await forwardPost(rig.proxy.port, target, type, part(['Content-Type: application/gzip'], gzipSync(Buffer.from('just a clean note\n')))), 200, 'a clean gzip part passes')
  })

  it('clean bodies with references, short arrays and many fields still pass', async () => {
    const target = `http://127.0.0.1:${rig.up.port}/`
    assert.equal(await forwardPost(rig.proxy.port, target, 'application/json', JSON.stringify({html: 'Fish &amp; chips &#8212; &lt;b&gt;today&lt;/b&gt;', tags: ['a', 'b', 'c'], n: 3})), 200)
    assert.equal(await forwardPost(rig.proxy.port, target, 'application/x-www-form-urlencoded', form([['q', 'weather in paris'], ['lang', 'en'], ['page', '2']])), 200)
  })
})
