#!/usr/bin/env node
// Mediation-envelope cost per request (envelope spec §25): build + serialize the envelope and
// sign a body-less GET; the same with a 1 KiB body digest; verify (fresh nonce each time).
// Run after `npm run build`: node bench/envelope-sign.mjs [iterations]
import {EnvelopeSigner, EnvelopeVerifier, ReplayCache, serializeEnvelope} from '../dist/src/plugins/envelope/index.js'
import {generateKeyPair} from '../dist/src/plugins/signing/index.js'

const N = Number(process.argv[2] ?? 20000)
const kp = generateKeyPair()
const signer = new EnvelopeSigner({keyPair: kp, keyId: 'pipelock-mediation-v1', components: ['@method', '@target-uri', 'content-digest', 'pipelock-mediation'], lifetimeSeconds: 300, maxBodyBytes: 1 << 20})
const verifier = new EnvelopeVerifier({trust: [{keyId: 'pipelock-mediation-v1', publicKey: kp.publicKey, trustDomains: []}], skewSeconds: 60, windowSeconds: 300, strictActor: true, replay: new ReplayCache(N * 2 + 10)})
const envelope = {v: 1, act: 'read', vd: 'allow', se: 'external_read', actor: 'spiffe://pipelock.local/agent/claude', aa: 'self-declared', ph: Buffer.alloc(16, 7), rid: '01961f3a-7b2c-7000-8000-000000000001', ts: 1, taint: 'trusted', auth: 'user_broad'}
const body = Buffer.alloc(1024, 97)

function run(name, f) {
  for (let i = 0; i < 2000; i++) f(i)
  const t = []
  for (let i = 0; i < N; i++) {
    const s = process.hrtime.bigint()
    f(i)
    t.push(Number(process.hrtime.bigint() - s) / 1000)
  }
  t.sort((a, b) => a - b)
  console.log(`| ${name} | ${t[Math.floor(N / 2)].toFixed(1)} | ${t[Math.floor(N * 0.99)].toFixed(1)} |`)
}

const sign = (b) => () => {
  const h = {'pipelock-mediation': serializeEnvelope({...envelope, ts: Math.floor(Date.now() / 1000)})}
  signer.sign({method: b ? 'POST' : 'GET', targetUri: 'https://api.example.com/v1/messages', authority: 'api.example.com', headers: h, body: b})
  return h
}
console.log(`| operation (${N} runs) | p50 µs | p99 µs |`)
console.log('|---|---|---|')
run('envelope + sign, GET (no body)', sign(null))
run('envelope + sign, POST 1 KiB (digest)', sign(body))
const signed = []
for (let i = 0; i < N + 2000; i++) signed.push(sign(body)())
run('verify, POST 1 KiB (digest, replay cache)', (i) => {
  const r = verifier.verify({method: 'POST', targetUri: 'https://api.example.com/v1/messages', authority: 'api.example.com', headers: signed[i % signed.length], body})
  if (!r.ok && r.code !== 'replay') throw new Error(r.message)
})
