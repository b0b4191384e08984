import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock} from '../../../src/plugins/canonical/index.js'
import {decodeEntry, decodeWriterCapture, openCaptureWriter, summaryJson, type CaptureSummary} from '../../../src/plugins/capture/index.js'
import {openSealedBox, sha256Hex, x25519KeyPair} from '../../../src/plugins/signing/index.js'
import {fillDisk} from '../../helpers/disk-faults.js'

const CLOCK = fixedClock('2026-04-29T12:00:01Z')

function summary(surface: string): CaptureSummary {
  return {
    capture_schema_version: 1, surface, subsurface: 'forward', config_hash: 'sha256:cfg', build_version: 'test', build_sha: 'test',
    payload_complete: surface !== 'url', transform_kind: 'raw', request: {method: 'POST', url: 'https://api.example.com/upload'},
    raw_findings: null, effective_findings: null, effective_action: 'block', outcome: 'blocked',
  }
}

test('capture sidecars: %06d ordinal per session from 0, mode 0600, sealed to the key, summary fields in spec order', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-sidecar-'))
  try {
    const key = x25519KeyPair()
    const w = openCaptureWriter(dir, {clock: CLOCK, escrowPublicKey: key.publicKey})
    const secret = Buffer.from('token=fxt_q3egrz7nxplm4twb\n')
    assert.equal(w.append({sessionId: 'a', transport: 'forward', detail: summary('dlp'), payload: secret}), true)
    assert.equal(w.append({sessionId: 'a', transport: 'forward', detail: summary('url')}), true) // no payload, no sidecar
    assert.equal(w.append({sessionId: 'b', transport: 'forward', detail: summary('response'), payload: Buffer.from('ignore previous instructions')}), true)
    assert.equal(w.append({sessionId: 'a', transport: 'forward', detail: summary('response'), payload: Buffer.alloc(0)}), true)
    w.close()
    assert.deepEqual(readdirSync(path.join(dir, 'a')).filter((n) => n.endsWith('.enc')).sort(), ['000000.payload.enc', '000001.payload.enc'])
    assert.deepEqual(readdirSync(path.join(dir, 'b')).filter((n) => n.endsWith('.enc')), ['000000.payload.enc'])
    const file = path.join(dir, 'a', '000000.payload.enc')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const sealed = readFileSync(file)
    assert.equal(sealed.includes(Buffer.from('fxt_q3egrz7nxplm4twb')), false) // never in clear
    assert.deepEqual(openSealedBox(sealed, key.secretKey), secret)

    const lines = readFileSync(path.join(dir, 'a', 'evidence-a-0.jsonl'), 'utf8').trim().split('\n')
    const first = decodeEntry(lines[0] as string)
    const d = first.detail as Record<string, unknown>
    assert.equal(d.payload_ref, '000000.payload.enc')
    assert.equal(d.payload_sha256, `sha256:${sha256Hex(secret)}`)
    assert.equal(d.payload_bytes, secret.length)
    // The detail is exactly what summaryJson writes for the summary plus the three fields (field order, omission).
    const expected = summaryJson({...summary('dlp'), payload_ref: '000000.payload.enc', payload_sha256: `sha256:${sha256Hex(secret)}`, payload_bytes: secret.length})
    assert.ok(lines[0]!.includes(`"detail":${expected}`), lines[0])
    assert.ok(expected.includes('"payload_ref":"000000.payload.enc","payload_sha256":"sha256:'))
    // No payload: none of the three fields.
    assert.equal((decodeEntry(lines[1] as string).detail as Record<string, unknown>).payload_ref, undefined)
    // An empty payload: payload_bytes 0 is omitted, the ref and hash are written.
    const empty = decodeEntry(lines[2] as string).detail as Record<string, unknown>
    assert.equal(empty.payload_ref, '000001.payload.enc')
    assert.equal(empty.payload_sha256, `sha256:${sha256Hex(Buffer.alloc(0))}`)
    assert.equal('payload_bytes' in empty, false)
    // The writer-layout reader reads the hash the general reader reads.
    assert.equal(decodeWriterCapture(lines[0] as string)?.payloadSha256, d.payload_sha256)

    // A restarted writer numbers after the sidecars already there.
    const again = openCaptureWriter(dir, {clock: CLOCK, escrowPublicKey: key.publicKey})
    again.append({sessionId: 'a', transport: 'forward', detail: summary('dlp'), payload: secret})
    again.close()
    assert.ok(readdirSync(path.join(dir, 'a')).includes('000002.payload.enc'))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('capture sidecars: without a key a payload is ignored (no sidecar, no payload fields)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-sidecar-'))
  try {
    const w = openCaptureWriter(dir, {clock: CLOCK})
    w.append({sessionId: 'a', transport: 'forward', detail: summary('dlp'), payload: Buffer.from('x')})
    w.close()
    assert.deepEqual(readdirSync(path.join(dir, 'a')).filter((n) => n.endsWith('.enc')), [])
    const line = readFileSync(path.join(dir, 'a', 'evidence-a-0.jsonl'), 'utf8').split('\n')[0] as string
    assert.equal(line.includes('payload_ref'), false)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('capture sidecars: one the disk cut short is removed, so the session\'s next payload gets the name and is written whole', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-sidecar-full-'))
  try {
    const key = x25519KeyPair()
    const w = openCaptureWriter(dir, {clock: CLOCK, escrowPublicKey: key.publicKey})
    // The disk fills in the middle of the sidecar's write: half of it lands, then ENOSPC.
    const restore = fillDisk(t)
    assert.equal(w.append({sessionId: 'a', transport: 'forward', detail: summary('dlp'), payload: Buffer.alloc(4096, 0x78)}), false)
    restore()
    assert.deepEqual(readdirSync(path.join(dir, 'a')).filter((n) => n.endsWith('.enc')), [], 'no cut-short sidecar')
    const secret = Buffer.from('token=fxt_q3egrz7nxplm4twb\n')
    assert.equal(w.append({sessionId: 'a', transport: 'forward', detail: summary('dlp'), payload: secret}), true)
    w.close()
    assert.deepEqual(readdirSync(path.join(dir, 'a')).filter((n) => n.endsWith('.enc')), ['000000.payload.enc'])
    assert.deepEqual(openSealedBox(readFileSync(path.join(dir, 'a', '000000.payload.enc')), key.secretKey), secret)
    const refs = readFileSync(path.join(dir, 'a', 'evidence-a-0.jsonl'), 'utf8').trim().split('\n').map((l) => (decodeEntry(l).detail as Record<string, unknown>).payload_ref).filter((r) => r !== undefined)
    assert.deepEqual(refs, ['000000.payload.enc'])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
