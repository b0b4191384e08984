/**
 * `npm run bench -- envelope [iterations]`: the mediation envelope's cost per request (envelope
 * spec §25) in process — build, serialise and sign for a body-less GET; the same with a 1 KiB body
 * digest; and verification of a signed 1 KiB POST (fresh nonce each, replay cache on). p50/p99 µs.
 */
import {pathToFileURL} from 'node:url'
import {EnvelopeSigner, EnvelopeVerifier, ReplayCache, serializeEnvelope} from '../src/plugins/envelope/index.js'
import {generateKeyPair} from '../src/plugins/signing/index.js'

export async function runEnvelopeBench(args: string[] = []): Promise<Record<string, unknown>[]> {
  const n = Number(args[0] ?? '') > 0 ? Number(args[0]) : 20_000
  const kp = generateKeyPair()
  const components = ['@method', '@target-uri', 'content-digest', 'pipelock-mediation']
  const signer = new EnvelopeSigner({keyPair: kp, keyId: 'pipelock-mediation-v1', components, lifetimeSeconds: 300, maxBodyBytes: 1 << 20})
  const verifier = new EnvelopeVerifier({trust: [{keyId: 'pipelock-mediation-v1', publicKey: kp.publicKey, trustDomains: []}], skewSeconds: 60, windowSeconds: 300, strictActor: true, replay: new ReplayCache(n * 2 + 10)})
  const envelope = {v: 1, act: 'read', vd: 'allow', se: 'external_read', actor: 'spiffe://pipelock.local/agent/claude', aa: 'self-declared', ph: Buffer.alloc(16, 7), rid: '01961f3a-7b2c-7000-8000-000000000001', ts: 1, taint: 'trusted', auth: 'user_broad'}
  const body = Buffer.alloc(1024, 97)
  const target = {targetUri: 'https://api.example.com/v1/messages', authority: 'api.example.com'}
  const sign = (b: Buffer | null) => (): Record<string, string> => {
    const headers: Record<string, string> = {'pipelock-mediation': serializeEnvelope({...envelope, ts: Math.floor(Date.now() / 1000)})}
    signer.sign({method: b !== null ? 'POST' : 'GET', ...target, headers, body: b})
    return headers
  }
  const time = (name: string, f: (i: number) => unknown): Record<string, unknown> => {
    for (let i = 0; i < 2000; i++) f(i)
    const t: number[] = []
    for (let i = 0; i < n; i++) {
      const s = process.hrtime.bigint()
      f(i)
      t.push(Number(process.hrtime.bigint() - s) / 1000)
    }
    t.sort((a, b) => a - b)
    return {operation: name, runs: n, p50_us: Number(t[Math.floor(n / 2)]!.toFixed(1)), p99_us: Number(t[Math.floor(n * 0.99)]!.toFixed(1))}
  }
  const rows = [time('envelope + sign, GET (no body)', sign(null)), time('envelope + sign, POST 1 KiB (digest)', sign(body))]
  const signed: Record<string, string>[] = []
  for (let i = 0; i < n + 2000; i++) signed.push(sign(body)())
  rows.push(time('verify, POST 1 KiB (digest, replay cache)', (i) => {
    const r = verifier.verify({method: 'POST', ...target, headers: signed[i % signed.length]!, body})
    if (!r.ok && r.code !== 'replay') throw new Error(r.message)
  }))
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await runEnvelopeBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
}
