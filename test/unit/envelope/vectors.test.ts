// Conformance vectors of the mediation-envelope spec §11: RFC 9421 Appendix B.2.6 (Ed25519),
// RFC 9530's Content-Digest example, and the pipelock golden of §11.3 (literal values from the
// spec; no vector files exist for these). Keys come from RFC 9421 B.1.4.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {test} from 'node:test'
import {
  contentDigest, EnvelopeSigner, EnvelopeVerifier, parseDictionary, parseEnvelope, ReplayCache, serializeDictionary,
  serializeEnvelope, serializeInnerList, signatureBase, type HeaderRecord, type TrustedKey,
} from '../../../src/plugins/envelope/index.js'
import {keyPairFromSeed, signBytes, verifyBytes} from '../../../src/plugins/signing/index.js'

const SEED = Buffer.from('9f8362f87a484a954e6e740c5b4c0e84229139a20aa8ab56ff66586f6a7d29c5', 'hex')
const PUBLIC = '26b40b8f93fff3d897112f7ebc582b232dbd72517d082fe83cfb30ddce43d1bb'
const kp = keyPairFromSeed(SEED)

const B26_BASE = [
  '"date": Tue, 20 Apr 2021 02:07:55 GMT',
  '"@method": POST',
  '"@path": /foo',
  '"@authority": example.com',
  '"content-type": application/json',
  '"content-length": 18',
  '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
].join('\n')
const B26_SIG = 'wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=='
const B26_INPUT = 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"'

test('RFC 9421 B.1.4: the seed gives the published public key', () => {
  assert.equal(kp.publicKey.toString('hex'), PUBLIC)
})

test('RFC 9421 B.2.6: the generic base builder yields the base byte for byte, and Ed25519 over it the published signature', () => {
  const lines: Array<[string, string]> = [
    ['date', 'Tue, 20 Apr 2021 02:07:55 GMT'], ['@method', 'POST'], ['@path', '/foo'], ['@authority', 'example.com'],
    ['content-type', 'application/json'], ['content-length', '18'],
  ]
  const params = parseDictionary(B26_INPUT)[0]![1]
  assert.equal(params.kind, 'list')
  const base = signatureBase(lines, serializeInnerList(params as never))
  assert.equal(base, B26_BASE)
  const sig = signBytes(kp, Buffer.from(base))
  assert.equal(sig.toString('base64'), B26_SIG)
  assert.equal(verifyBytes(kp.publicKey, Buffer.from(base), sig), true)
  const flipped = Buffer.from(base)
  flipped[3] = flipped[3]! ^ 1
  assert.equal(verifyBytes(kp.publicKey, flipped, sig), false)
})

test('RFC 9421 B.2.6: Signature-Input re-serializes identically; the Signature member is 64 bytes', () => {
  assert.equal(serializeDictionary(parseDictionary(B26_INPUT)), B26_INPUT)
  const s = parseDictionary(`sig-b26=:${B26_SIG}:`)[0]![1]
  assert.ok(s.kind === 'item' && s.value.t === 'bytes' && s.value.v.length === 64)
})

test('RFC 9530: Content-Digest of {"hello": "world"}', () => {
  assert.equal(contentDigest(Buffer.from('{"hello": "world"}')), 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:')
})

const ENVELOPE = 'v=1, act="write", vd="allow", se="external_write", actor="spiffe://pipelock.local/agent/claude", aa="self-declared", ph=:ABEiM0RVZneImaq7zN3u/w==:, rid="01961f3a-7b2c-7000-8000-000000000001", ts=1618884473, taint="trusted", auth="user_broad"'
const SIG_INPUT = 'pipelock1=("@method" "@target-uri" "content-digest" "pipelock-mediation");keyid="pipelock-mediation-v1";alg="ed25519";tag="pipelock-mediation";nonce="000102030405060708090a0b0c0d0e0f";created=1618884473;expires=1618884773'
const GOLDEN_SIG = 'pipelock1=:CbDAdS1UxemXF2VR6Pi1gw58QCqshu4VuoSnjjJct97j6b1xqu7bP8jBp0HY99JEMuzHNtvDgaxI4dtuSWbiDg==:'
const BODY = Buffer.from('{"hello": "world"}')
const TARGET = 'https://api.example.com/v1/messages?beta=true'

test('spec §2.1: the example envelope serializes byte for byte and parses back', () => {
  const e = {
    v: 1, act: 'write', vd: 'allow', se: 'external_write', actor: 'spiffe://pipelock.local/agent/claude', aa: 'self-declared',
    ph: Buffer.from('00112233445566778899aabbccddeeff', 'hex'), rid: '01961f3a-7b2c-7000-8000-000000000001', ts: 1618884473, taint: 'trusted', auth: 'user_broad',
  }
  assert.equal(serializeEnvelope(e), ENVELOPE)
  assert.deepEqual(parseEnvelope(ENVELOPE), e)
})

function goldenSigner(lifetime = 300): EnvelopeSigner {
  return new EnvelopeSigner({keyPair: kp, keyId: 'pipelock-mediation-v1', components: ['@method', '@target-uri', 'content-digest', 'pipelock-mediation'], lifetimeSeconds: lifetime, maxBodyBytes: 1 << 20, now: () => 1618884473, nonce: () => '000102030405060708090a0b0c0d0e0f'})
}

function goldenHeaders(): HeaderRecord {
  const h: HeaderRecord = {'pipelock-mediation': ENVELOPE}
  goldenSigner().sign({method: 'POST', targetUri: TARGET, authority: 'api.example.com', headers: h, body: BODY})
  return h
}

test('spec §11.3: the signer reproduces the pipelock golden (base of 646 bytes, Signature-Input, Signature)', () => {
  const h = goldenHeaders()
  assert.equal(h['signature-input'], SIG_INPUT)
  assert.equal(h.signature, GOLDEN_SIG)
  assert.equal(h['content-digest'], 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:')
  const base = signatureBase([['@method', 'POST'], ['@target-uri', TARGET], ['content-digest', h['content-digest'] as string], ['pipelock-mediation', ENVELOPE]], SIG_INPUT.slice('pipelock1='.length))
  assert.equal(Buffer.byteLength(base), 646)
  assert.equal(createHash('sha256').update(base).digest('hex'), '35ad18a6d339c736a39035532e954dc5579cbc1dbad78f468f81958656bb05f5')
})

const trusted = (domains: string[] = []): TrustedKey[] => [{keyId: 'pipelock-mediation-v1', publicKey: kp.publicKey, trustDomains: domains}]
function verifier(now: number, o: {trust?: TrustedKey[]; strict?: boolean; replay?: ReplayCache} = {}): EnvelopeVerifier {
  return new EnvelopeVerifier({trust: o.trust ?? trusted(), skewSeconds: 60, windowSeconds: 300, strictActor: o.strict ?? true, replay: o.replay ?? new ReplayCache(10_000), now: () => now})
}
const inbound = (h: HeaderRecord, body = BODY) => ({method: 'POST', targetUri: TARGET, authority: 'api.example.com', headers: h, body})

test('spec §11.3: the verifier accepts the golden at now=1618884500, then rejects the same nonce as a replay', () => {
  const replay = new ReplayCache(10)
  const v = verifier(1618884500, {replay})
  const r = v.verify(inbound(goldenHeaders()))
  assert.equal(r.ok, true)
  assert.deepEqual(v.verify(inbound(goldenHeaders())), {ok: false, code: 'replay', message: 'signature replay detected'})
})

test('spec §11.3 negatives: tampered envelope, expired, lifetime over the maximum, wrong trust domain, legacy actor in strict mode', () => {
  const tampered = goldenHeaders()
  tampered['pipelock-mediation'] = ENVELOPE.replace('vd="allow"', 'vd="block"')
  assert.deepEqual(verifier(1618884500).verify(inbound(tampered)), {ok: false, code: 'signature', message: 'signature verification failed'})
  assert.deepEqual(verifier(1618884834).verify(inbound(goldenHeaders())), {ok: false, code: 'expired', message: 'signature expired'})
  const long: HeaderRecord = {'pipelock-mediation': ENVELOPE}
  goldenSigner(400).sign({method: 'POST', targetUri: TARGET, authority: 'api.example.com', headers: long, body: BODY})
  assert.deepEqual(verifier(1618884500).verify(inbound(long)), {ok: false, code: 'expired', message: 'signature lifetime exceeds maximum'})
  assert.deepEqual(verifier(1618884500, {trust: trusted(['other.example'])}).verify(inbound(goldenHeaders())), {ok: false, code: 'not_trusted', message: 'trusted key not authorized for actor trust domain'})
  assert.equal(verifier(1618884500, {trust: trusted(['pipelock.local'])}).verify(inbound(goldenHeaders())).ok, true)
  const legacy: HeaderRecord = {'pipelock-mediation': ENVELOPE.replace('spiffe://pipelock.local/agent/claude', 'legacy-agent')}
  goldenSigner().sign({method: 'POST', targetUri: TARGET, authority: 'api.example.com', headers: legacy, body: BODY})
  assert.deepEqual(verifier(1618884500).verify(inbound(legacy)), {ok: false, code: 'parse', message: 'parse actor: actor must be a SPIFFE ID'})
  assert.equal(verifier(1618884500, {strict: false}).verify(inbound(legacy)).ok, true)
  // A body other than the digested one fails on the digest.
  assert.deepEqual(verifier(1618884500).verify(inbound(goldenHeaders(), Buffer.from('{"hello": "World"}'))), {ok: false, code: 'digest', message: 'content-digest mismatch'})
})

test('spec §11.1 negative: an RFC signature with a valid envelope is not a pipelock signature (label, then tag)', () => {
  const h: HeaderRecord = {'pipelock-mediation': ENVELOPE, 'signature-input': B26_INPUT, signature: `sig-b26=:${B26_SIG}:`}
  assert.deepEqual(verifier(1618884500).verify(inbound(h)), {ok: false, code: 'parse', message: 'missing pipelock mediation signature'})
  const relabelled: HeaderRecord = {'pipelock-mediation': ENVELOPE, 'signature-input': B26_INPUT.replace('sig-b26', 'pipelock1'), signature: `pipelock1=:${B26_SIG}:`}
  assert.deepEqual(verifier(1618884500).verify(inbound(relabelled)), {ok: false, code: 'parse', message: 'missing pipelock mediation signature'})
  assert.deepEqual(verifier(1618884500).verify(inbound({})), {ok: false, code: 'missing', message: 'missing Pipelock-Mediation header'})
})
