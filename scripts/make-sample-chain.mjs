#!/usr/bin/env node
// Writes a small, reproducible signed flight-recorder chain for the docs and demos:
//   DIR/evidence-proxy-0.jsonl  (session open, four receipts, a heartbeat, session close, and the
//                               signed checkpoint the flight recorder writes on close)
//   DIR/signer.pub              (the demo signer's public key, pipelock-ed25519-public-v1)
// The key is a fixed DEMO key (seed = SHA-256 of "pipelock-docs-demo-key"): never use it for real.
// --unsigned-checkpoints writes the checkpoint unsigned, as a recorder with
// flight_recorder.sign_checkpoints off (or anyone who stripped its signature) leaves it.
// Usage: npm run build && node scripts/make-sample-chain.mjs DIR [--unsigned-checkpoints]
import {createHash} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {ReceiptChainBuilder, RecorderEntryChain} from '../dist/src/plugins/receipts/index.js'
import {encodePublicKeyText, keyPairFromSeed, signBytes} from '../dist/src/plugins/signing/index.js'

const dir = process.argv[2]
const unsigned = process.argv[3] === '--unsigned-checkpoints'
if (!dir || (process.argv[3] !== undefined && !unsigned) || process.argv.length > 4) {
  console.error('usage: node scripts/make-sample-chain.mjs DIR [--unsigned-checkpoints]')
  process.exit(1)
}
const key = keyPairFromSeed(createHash('sha256').update('pipelock-docs-demo-key').digest())
const b = new ReceiptChainBuilder(key)
const entries = new RecorderEntryChain('proxy')
const who = {principal: 'org:demo', actor: 'agent:demo', policyHash: 'sha256:' + '0'.repeat(64)}
const t = (s) => `2026-11-22T09:00:${String(s).padStart(2, '0')}Z`
const req = (i, method, target, verdict) => ({
  action_id: `demo-${i}`,
  action_type: method === 'GET' ? 'read' : 'write',
  timestamp: t(i),
  principal: who.principal,
  actor: who.actor,
  target,
  side_effect_class: method === 'GET' ? 'external_read' : 'external_write',
  reversibility: method === 'GET' ? 'full' : 'compensatable',
  policy_hash: who.policyHash,
  verdict,
  transport: 'forward',
  method,
})
const run = {runNonce: 'demo-run-1', openNonce: 'demo-open-1', recorderSession: 'proxy', signerKeyEpoch: 'demo', heartbeatSeconds: 30}
const receipts = [
  b.openRun(run, {actionId: 'demo-open', timestamp: t(0), ...who}),
  b.append(req(1, 'GET', 'https://api.github.com/repos/acme/app', 'allow')),
  b.append(req(2, 'POST', 'https://api.openai.com/v1/chat/completions', 'allow')),
  b.append(req(3, 'GET', 'https://pastebin.com/raw/abc', 'block')),
  b.heartbeat({actionId: 'demo-heartbeat', timestamp: t(30), ...who}),
  b.append(req(31, 'GET', 'https://pypi.org/simple/requests/', 'allow')),
  b.closeRun({actionId: 'demo-close', timestamp: t(40), ...who}),
]
mkdirSync(dir, {recursive: true})
const lines = receipts.map((r) => entries.receiptEntry(r, r.record.get('timestamp')).line)
lines.push(entries.checkpoint(t(40), 0n, (prev) => (unsigned ? '' : signBytes(key, Buffer.from(prev, 'ascii')).toString('hex'))).line)
writeFileSync(path.join(dir, 'evidence-proxy-0.jsonl'), lines.join('\n') + '\n', {mode: 0o600})
writeFileSync(path.join(dir, 'signer.pub'), encodePublicKeyText(key.publicKey))
console.log(`wrote ${path.join(dir, 'evidence-proxy-0.jsonl')} (${receipts.length} receipts) and ${path.join(dir, 'signer.pub')}`)
