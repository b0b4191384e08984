import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {children, oid, readNode, seq, tlv} from '../../../src/plugins/tls/der.js'

/** The concatenating writer the single-buffer one replaced, kept as the oracle (issue 16). */
function tlvOracle(tag: number, ...content: Buffer[]): Buffer {
  const lengthBytes = (n: number): Buffer => {
    if (n < 0x80) return Buffer.from([n])
    const out: number[] = []
    for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff)
    return Buffer.from([0x80 | out.length, ...out])
  }
  const body = content.length === 1 ? content[0]! : Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body])
}

function oidOracle(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => Number(p))
  const out: number[] = [40 * parts[0]! + parts[1]!]
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f]
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f))
    out.push(...chunk)
  }
  return tlvOracle(0x06, Buffer.from(out))
}

describe('DER writer (transports §2.15)', () => {
  it('a TLV written into one buffer is byte-equal to the concatenating writer at every length-form boundary, with 0 to 3 parts', () => {
    const sizes = [0, 1, 126, 127, 128, 129, 255, 256, 257, 1000, 65_535, 65_536, 65_537, 70_000]
    for (const n of sizes) {
      for (const parts of [0, 1, 2, 3]) {
        if (parts === 0 && n !== 0) continue
        // Split n bytes into `parts` random pieces.
        const body = randomBytes(n)
        const cuts = Array.from({length: Math.max(0, parts - 1)}, () => Math.floor(Math.random() * (n + 1))).sort((a, b) => a - b)
        const pieces = parts === 0 ? [] : [0, ...cuts, n].slice(1).map((end, i, ends) => body.subarray(i === 0 ? 0 : ends[i - 1]!, end))
        const tag = 0x30 + parts
        assert.deepEqual(tlv(tag, ...pieces), tlvOracle(tag, ...pieces), `length ${n}, ${parts} parts`)
      }
    }
    // What the reader makes of it: the nested elements come back whole.
    const der = seq(tlv(0x04, randomBytes(300)), tlv(0x02, Buffer.from([1])))
    assert.deepEqual(children(der, readNode(der, 0)).map((c) => c.end - c.start), [304, 3])
  })

  it('an OID is byte-equal to the previous encoder, arcs of one to five base-128 digits included', () => {
    const oids = ['2.5.4.3', '1.2.840.10045.4.3.2', '1.3.6.1.5.5.7.3.1', '2.5.29.17', '1.2.840.113549.1.1.11', '1.3.6.1.4.1.311.60.2.1.3', '1.2.127.128.16383.16384.2097151.2097152.268435455.268435456']
    for (const o of oids) assert.deepEqual(oid(o), oidOracle(o), o)
  })
})
