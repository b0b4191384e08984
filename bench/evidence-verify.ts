import {fileURLToPath} from 'node:url'
import {keyPairFromSeed, sha256, verifyBytes} from '../src/plugins/signing/index.js'
import {
  encodeEvidenceReceipt,
  evidencePreimageBytes,
  signEvidence,
  verifyEvidence,
} from '../src/plugins/receipts/evidence/index.js'

// EvidenceReceipt v2 verification cost, as a ratio to the bare Ed25519 verification it wraps
// (parse + validate + two canonicalisations + hash on top). Ratios, not absolute times.

export interface BenchRow {
  name: string
  opsPerSec: number
  ratio: number
}

function measure(fn: () => void, minMs = 300): number {
  for (let i = 0; i < 50; i++) fn() // warm-up
  let n = 0
  const start = process.hrtime.bigint()
  let elapsed = 0
  while (elapsed < minMs) {
    for (let i = 0; i < 100; i++) fn()
    n += 100
    elapsed = Number(process.hrtime.bigint() - start) / 1e6
  }
  return (n * 1000) / elapsed
}

export function benchEvidence(): BenchRow[] {
  const keyPair = keyPairFromSeed(sha256('pipelock evidence bench key'))
  const signed = signEvidence(
    {
      payloadKind: 'proxy_decision',
      eventId: '0190f5e2-7c1a-7000-8000-000000000001',
      timestamp: '2026-04-25T22:00:00.123456789Z',
      chainSeq: 41,
      chainPrevHash: 'ab'.repeat(32),
      payload: {
        action_type: 'connect',
        target: 'api.example.com:443',
        verdict: 'allow',
        transport: 'forward',
        policy_sources: ['contract', 'config'],
        winning_source: 'contract',
      },
    },
    {keyPair, keyId: 'bench', purpose: 'receipt-signing'},
  )
  const line = encodeEvidenceReceipt(signed)
  const preimage = evidencePreimageBytes(signed)
  const sig = Buffer.from(((signed.get('signature') as Map<string, string>).get('signature') as string).slice(8), 'hex')
  const base = measure(() => verifyBytes(keyPair.publicKey, preimage, sig))
  const full = measure(() => verifyEvidence(line, {publicKey: keyPair.publicKey}))
  return [
    {name: 'ed25519 verify (preimage ready)', opsPerSec: base, ratio: 1},
    {name: 'verifyEvidence (JSONL line)', opsPerSec: full, ratio: base / full},
  ]
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of benchEvidence()) {
    process.stdout.write(`${row.name.padEnd(36)} ${row.opsPerSec.toFixed(0).padStart(8)} ops/s  x${row.ratio.toFixed(2)}\n`)
  }
}
