import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import tls from 'node:tls'
import {createECDH, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate} from 'node:crypto'
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {caPaths, checkCaFiles, generateCa, ipBytes, LeafCache, loadCa, mintLeaf, mintLeafAsync, writeCaFiles} from '../../../src/plugins/tls/index.js'
import {newLeafKey, p256KeyEncodings} from '../../../src/plugins/tls/leaf.js'
import {isPipelockError} from '../../../src/plugins/errors/index.js'
import {caWithUnreadableNotAfter} from '../../helpers/tls-ca.js'

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678)
const HOUR = 3_600_000

function caDir(): {dir: string; paths: ReturnType<typeof caPaths>} {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-tls-'))
  const paths = caPaths(dir)
  writeCaFiles(paths, generateCa('Pipelock', 87600 * HOUR, NOW), false)
  return {dir, paths}
}

/** The message of the PipelockError `fn` throws, with its code. */
function failure(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    assert.ok(isPipelockError(e), String(e))
    return `${e.message} [${e.code}]`
  }
  assert.fail('expected a failure')
}

function opensslText(pem: string): string {
  const r = spawnSync('openssl', ['x509', '-noout', '-text'], {input: pem, encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
}

describe('CA certificate profile (transports §2.4)', () => {
  const {paths} = caDir()
  const cert = new X509Certificate(readFileSync(paths.cert))

  it('is a self-signed ECDSA P-256 CA, O then CN, validity now−1h … now+validity in whole seconds', () => {
    assert.equal(cert.subject, 'O=Pipelock\nCN=Pipelock CA')
    assert.equal(cert.issuer, cert.subject)
    assert.equal(cert.ca, true)
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1')
    assert.ok(cert.verify(cert.publicKey))
    assert.equal(Date.parse(cert.validFrom), Math.floor((NOW - HOUR) / 1000) * 1000)
    assert.equal(Date.parse(cert.validTo), Math.floor((NOW + 87600 * HOUR) / 1000) * 1000)
    assert.ok(BigInt('0x' + cert.serialNumber) >= 1n && BigInt('0x' + cert.serialNumber) <= 2n ** 128n)
  })

  it('carries keyUsage (critical, certSign+cRLSign), basicConstraints (critical, pathlen 0), SKID — in that order', () => {
    const t = opensslText(readFileSync(paths.cert, 'utf8'))
    assert.match(t, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign/)
    assert.match(t, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0/)
    assert.match(t, /Signature Algorithm: ecdsa-with-SHA256/)
    const order = ['Key Usage', 'Basic Constraints', 'Subject Key Identifier'].map((n) => t.indexOf(`X509v3 ${n}`))
    assert.deepEqual([...order].sort((a, b) => a - b), order)
    assert.ok(order[0]! > 0)
  })

  it('writes SEC1 PEM key and 0600 files; loads back with every check passing', () => {
    assert.match(readFileSync(paths.key, 'utf8'), /^-----BEGIN EC PRIVATE KEY-----\n/)
    const ca = loadCa(paths)
    assert.equal(ca.keyId.length, 20)
    assert.ok(cert.checkPrivateKey(ca.key))
  })

  it('uses GeneratedTime from 2050 on', () => {
    const late = generateCa('Pipelock', 40 * 8760 * HOUR, NOW)
    assert.match(opensslText(late.certPem), /Not After : .* 2065 GMT/)
  })

  it('ends no later than 9999-12-31T23:59:59Z, the last date GeneralizedTime can write; a second later is refused', () => {
    const last = Date.UTC(9999, 11, 31, 23, 59, 59)
    const c = new X509Certificate(generateCa('Pipelock', last - NOW, NOW).certPem)
    assert.equal(c.validTo, 'Dec 31 23:59:59 9999 GMT')
    assert.match(opensslText(generateCa('Pipelock', last - NOW, NOW).certPem), /Not After : Dec 31 23:59:59 9999 GMT/)
    assert.equal(failure(() => generateCa('Pipelock', last - NOW + 1000, NOW)), 'generate CA: CA validity ends after 9999-12-31T23:59:59Z, the latest date a certificate can hold [TLS_CA_INVALID]')
  })

  it('writes a UTF8String for an organisation outside PrintableString', () => {
    const c = new X509Certificate(generateCa('Äcme & Co', HOUR, NOW).certPem)
    assert.equal(c.subject, 'O=Äcme & Co\nCN=Pipelock CA')
  })
})

describe('CA loading and start-up checks (transports §2.1, §2.2)', () => {
  it('refuses a missing cert and a missing key with the reference texts', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pl-tls-'))
    const p = caPaths(dir)
    assert.equal(failure(() => checkCaFiles(p)), `CA cert not found at ${p.cert} (run 'pipelock tls init'): stat ${p.cert}: no such file or directory [TLS_CA_NOT_FOUND]`)
    writeFileSync(p.cert, 'x')
    assert.equal(failure(() => checkCaFiles(p)), `CA key not found at ${p.key} (run 'pipelock tls init'): stat ${p.key}: no such file or directory [TLS_CA_NOT_FOUND]`)
  })

  it('key modes: 0600/0640/0400/0440 pass, 0644/0660/0700 fail naming the mode', () => {
    const {paths} = caDir()
    for (const m of [0o600, 0o640, 0o400, 0o440]) {
      chmodSync(paths.key, m)
      checkCaFiles(paths)
    }
    for (const m of [0o644, 0o660, 0o700]) {
      chmodSync(paths.key, m)
      assert.equal(failure(() => checkCaFiles(paths)), `CA key ${paths.key} is too permissive (mode ${m.toString(8).padStart(4, '0')}): restrict to 0600 or 0640 [KEY_PERMISSIONS]`)
    }
  })

  it('refuses a non-CA certificate, a mismatched key, a file with no PEM; accepts a PKCS#8 EC key', () => {
    const {paths} = caDir()
    const other = caDir()
    const mixed = {cert: paths.cert, key: other.paths.key}
    assert.equal(failure(() => loadCa(mixed)), "load TLS CA: CA key does not match certificate (run 'pipelock tls init' to generate) [TLS_CA_INVALID]")
    const ca = loadCa(paths)
    const leaf = mintLeaf('example.com', ca, HOUR, NOW)
    const leafPaths = {cert: path.join(path.dirname(paths.cert), 'leaf.pem'), key: path.join(path.dirname(paths.cert), 'leaf-key.pem')}
    writeFileSync(leafPaths.cert, leaf.certPem)
    writeFileSync(leafPaths.key, String(createPrivateKey(leaf.keyPem).export({type: 'sec1', format: 'pem'})))
    assert.equal(failure(() => loadCa(leafPaths)), "load TLS CA: certificate is not a CA (run 'pipelock tls init' to generate) [TLS_CA_INVALID]")
    writeFileSync(leafPaths.cert, 'not pem\n')
    assert.equal(failure(() => loadCa(leafPaths)), "load TLS CA: no PEM block in CA cert file (run 'pipelock tls init' to generate) [TLS_CA_INVALID]")
    const pk8 = {cert: paths.cert, key: path.join(path.dirname(paths.cert), 'pk8.pem')}
    writeFileSync(pk8.key, String(ca.key.export({type: 'pkcs8', format: 'pem'})))
    assert.ok(loadCa(pk8).cert.checkPrivateKey(ca.key))
    const rsa = generateKeyPairSync('rsa', {modulusLength: 1024}).privateKey
    writeFileSync(pk8.key, String(rsa.export({type: 'pkcs8', format: 'pem'})))
    assert.equal(failure(() => loadCa(pk8)), "load TLS CA: parse CA key: not an EC private key (run 'pipelock tls init' to generate) [TLS_CA_INVALID]")
  })

  it('refuses a CA whose notAfter no parser can read', () => {
    const {dir} = caDir()
    const bad = {cert: path.join(dir, 'bad.pem'), key: path.join(dir, 'bad-key.pem')}
    const made = caWithUnreadableNotAfter(NOW)
    writeFileSync(bad.cert, made.certPem)
    writeFileSync(bad.key, made.keyPem, {mode: 0o600})
    assert.equal(failure(() => loadCa(bad)), `load TLS CA: CA certificate notAfter cannot be read ("Bad time value") (run 'pipelock tls init' to generate) [TLS_CA_INVALID]`)
  })

  it('refuses a CA certificate whose public key point is damaged (node decodes it only when asked)', () => {
    const {dir, paths} = caDir()
    const der = new X509Certificate(readFileSync(paths.cert)).raw
    const spki = new X509Certificate(der).publicKey.export({type: 'spki', format: 'der'})
    // The uncompressed point (04 || X || Y) ends the SPKI; a changed byte of X leaves the curve.
    const point = spki.subarray(spki.length - 65)
    const at = der.indexOf(point)
    assert.ok(at > 0)
    const bad = Buffer.from(der)
    bad[at + 10] ^= 0x55
    const damaged = {cert: path.join(dir, 'damaged.pem'), key: paths.key}
    writeFileSync(damaged.cert, `-----BEGIN CERTIFICATE-----\n${bad.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`)
    assert.match(failure(() => loadCa(damaged)), /^load TLS CA: parse CA cert: .+ \(run 'pipelock tls init' to generate\) \[TLS_CA_INVALID\]$/)
  })

  it('writeCaFiles refuses existing files without force and leaves 0600 after --force over a 0644 file', () => {
    const {paths} = caDir()
    assert.equal(failure(() => writeCaFiles(paths, generateCa('x', HOUR, NOW), false)), `CA cert already exists at ${paths.cert} (use --force to overwrite) [TLS_CA_EXISTS]`)
    chmodSync(paths.key, 0o644)
    writeCaFiles(paths, generateCa('x', HOUR, NOW), true)
    checkCaFiles(paths)
  })
})

describe('leaf certificates (transports §2.5)', () => {
  const {paths} = caDir()
  const ca = loadCa(paths)

  it('DNS host: CN=host, one DNS SAN, issuer = CA subject, AKID = CA SKID, serverAuth, signed by the CA', () => {
    const leaf = mintLeaf('api.example.com', ca, 24 * HOUR, NOW)
    const c = new X509Certificate(leaf.certPem)
    assert.equal(c.subject, 'CN=api.example.com')
    assert.equal(c.issuer, 'O=Pipelock\nCN=Pipelock CA')
    assert.equal(c.subjectAltName, 'DNS:api.example.com')
    assert.equal(c.ca, false)
    assert.ok(c.verify(ca.cert.publicKey))
    assert.ok(c.checkIssued(ca.cert))
    assert.equal(c.checkHost('api.example.com'), 'api.example.com')
    assert.equal(c.checkHost('other.example.com'), undefined)
    assert.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.1'])
    assert.equal(Date.parse(c.validTo), Math.floor((NOW + 24 * HOUR) / 1000) * 1000)
    const t = opensslText(leaf.certPem)
    assert.match(t, /X509v3 Key Usage: critical\n\s+Digital Signature\n/)
    assert.match(t, /X509v3 Authority Key Identifier: \n\s+([0-9A-F:]+)/)
    assert.doesNotMatch(t, /Basic Constraints|Subject Key Identifier/)
    const skid = /X509v3 Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(opensslText(readFileSync(paths.cert, 'utf8')))![1]
    assert.ok(t.includes(skid!), 'AKID equals the CA SKID')
    const r = spawnSync('openssl', ['verify', '-attime', String(Math.floor(NOW / 1000)), '-CAfile', paths.cert, '-purpose', 'sslserver'], {input: leaf.certPem, encoding: 'utf8'})
    assert.equal(r.stdout.trim(), 'stdin: OK', r.stderr)
  })

  it('IP hosts get one iPAddress SAN: 4 bytes for IPv4 (and IPv4-mapped), 16 for IPv6', () => {
    assert.equal(new X509Certificate(mintLeaf('127.0.0.1', ca, HOUR, NOW).certPem).subjectAltName, 'IP Address:127.0.0.1')
    assert.equal(new X509Certificate(mintLeaf('::1', ca, HOUR, NOW).certPem).subjectAltName, 'IP Address:0:0:0:0:0:0:0:1')
    assert.deepEqual([...ipBytes('::ffff:10.0.0.1')!], [10, 0, 0, 1])
    assert.deepEqual([...ipBytes('2001:db8::8:1')!], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0, 0x01])
    assert.equal(ipBytes('example.com'), null)
  })

  it('each leaf has a fresh key and serial; a non-ASCII host cannot be minted', () => {
    const a = mintLeaf('a.example', ca, HOUR, NOW)
    const b = mintLeaf('a.example', ca, HOUR, NOW)
    assert.notEqual(a.keyPem, b.keyPem)
    assert.notEqual(a.serial, b.serial)
    assert.throws(() => mintLeaf('bücher.example', ca, HOUR, NOW), /not an ASCII name/)
  })

  it('cache: hits share the leaf (case-insensitive), FIFO eviction at the cap, re-mint in the last 10 % of the TTL', () => {
    let now = NOW
    const cache = new LeafCache({ca, ttlMs: 100 * HOUR, maxEntries: 2, nowMs: () => now})
    const first = cache.get('One.example')
    assert.equal(cache.get('one.example'), first)
    cache.get('two.example')
    cache.get('one.example')
    assert.equal(cache.minted, 2)
    cache.get('three.example')
    assert.equal(cache.size, 2)
    assert.notEqual(cache.get('one.example'), first, 'the first insertion was evicted')
    assert.equal(cache.minted, 4)
    const again = cache.get('one.example')
    now += 89 * HOUR
    assert.equal(cache.get('one.example'), again)
    now += 2 * HOUR
    assert.notEqual(cache.get('one.example'), again, 'renewed with < 10 % of the TTL left')
  })

  it('acquire: a miss mints once off the loop for all concurrent callers; a hit is returned at once; a bad name rejects', async () => {
    const cache = new LeafCache({ca, ttlMs: HOUR, maxEntries: 10, nowMs: () => NOW})
    const p1 = cache.acquire('Async.example')
    const p2 = cache.acquire('async.example')
    assert.ok(p1 instanceof Promise)
    assert.equal(p2, p1, 'single flight')
    const leaf = await p1
    assert.equal(cache.minted, 1)
    assert.equal(cache.acquire('async.example'), leaf, 'a hit is the leaf itself, not a promise')
    const x = new X509Certificate(leaf.certPem)
    assert.equal(x.subjectAltName, 'DNS:async.example')
    assert.ok(x.verify(new X509Certificate(readFileSync(paths.cert, 'utf8')).publicKey))
    await assert.rejects(async () => await cache.acquire('bücher.example'), /not an ASCII name/)
  })

  it("acquire with a pace (the proxy's set-up queue): a mint's work, its signature included, runs only in the two steps it hands over, and gives the same leaf profile", async () => {
    const steps: Array<() => void> = []
    const cache = new LeafCache({ca, ttlMs: HOUR, maxEntries: 10, nowMs: () => NOW, pace: (step) => steps.push(step)})
    const p = cache.acquire('paced.example')
    assert.ok(p instanceof Promise)
    let settled = false
    void p.then(() => (settled = true))
    const nextStep = async (): Promise<() => void> => {
      // The key and TBS are made in the first step, the signature in the second: handed over
      // within microtasks of the first, i.e. not through a thread-pool job (whose CA-key lock the
      // event loop would wait on), which could only complete in a later event-loop turn.
      for (let i = 0; i < 50 && steps.length === 0; i++) await Promise.resolve()
      assert.equal(steps.length, 1)
      return steps.shift()!
    }
    ;(await nextStep())()
    assert.equal(settled, false, 'not minted before the second step')
    ;(await nextStep())()
    const leaf = await p
    assert.equal(steps.length, 0)
    const x = new X509Certificate(leaf.certPem)
    assert.equal(x.subjectAltName, 'DNS:paced.example')
    assert.ok(x.verify(new X509Certificate(readFileSync(paths.cert, 'utf8')).publicKey))
    assert.ok(x.checkPrivateKey(createPrivateKey(leaf.keyPem)))
    assert.equal(cache.acquire('paced.example'), leaf)
  })

  it('mintLeafAsync (key and signature on the thread pool) gives the same profile as mintLeaf, with a key that matches', async () => {
    const sync = mintLeaf('same.example', ca, HOUR, NOW)
    const async = await mintLeafAsync('same.example', ca, HOUR, NOW)
    const [s, a] = [new X509Certificate(sync.certPem), new X509Certificate(async.certPem)]
    for (const k of ['subject', 'issuer', 'subjectAltName', 'validFrom', 'validTo', 'keyUsage', 'ca'] as const) assert.deepEqual(a[k], s[k], k)
    assert.ok(a.verify(new X509Certificate(readFileSync(paths.cert, 'utf8')).publicKey))
    assert.ok(a.checkPrivateKey(createPrivateKey(async.keyPem)))
    assert.match(async.keyPem, /^-----BEGIN PRIVATE KEY-----\n/)
    assert.notEqual(a.serialNumber, s.serialNumber)
    assert.notEqual(a.publicKey.export({type: 'spki', format: 'der'}).toString('hex'), s.publicKey.export({type: 'spki', format: 'der'}).toString('hex'))
    // The TLS server takes the pair as Node hands it out.
    assert.ok(tls.createSecureContext({cert: async.certPem, key: async.keyPem}))
  })

  it("a leaf key's SPKI DER and PKCS#8 PEM are byte-equal to node's own export of the same numbers (the oracle), short scalars included", () => {
    // The oracle imports the numbers as a JWK and exports with OpenSSL's encoder (an imported key
    // has no KeyGenJob, and PKCS#8/SPKI exports do not take the path that deadlocks; see newLeafKey).
    const b64u = (b: Buffer): string => b.toString('base64url')
    for (let i = 0; i < 600; i++) {
      const ecdh = createECDH('prime256v1')
      // Every third scalar has one or two leading zero bytes: getPrivateKey() returns it short.
      if (i % 3 === 0) ecdh.setPrivateKey(Buffer.concat([Buffer.alloc(1 + (i % 2)), randomBytes(31 - (i % 2))]))
      else ecdh.generateKeys()
      const d = ecdh.getPrivateKey()
      const point = ecdh.getPublicKey()
      if (i % 3 === 0) assert.ok(d.length < 32)
      const mine = p256KeyEncodings(d, point)
      const oracle = createPrivateKey({
        format: 'jwk',
        key: {kty: 'EC', crv: 'P-256', d: b64u(Buffer.concat([Buffer.alloc(32 - d.length), d])), x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33))},
      })
      assert.equal(mine.privateKey, oracle.export({type: 'pkcs8', format: 'pem'}))
      assert.deepEqual(mine.publicKey, createPublicKey(oracle).export({type: 'spki', format: 'der'}))
    }
    // newLeafKey's pair belongs together.
    for (let i = 0; i < 50; i++) {
      const k = newLeafKey()
      assert.deepEqual(createPublicKey(createPrivateKey(k.privateKey)).export({type: 'spki', format: 'der'}), k.publicKey)
    }
    assert.throws(() => p256KeyEncodings(Buffer.alloc(33, 1), Buffer.alloc(65, 4)), /unexpected P-256 key size/)
    assert.throws(() => p256KeyEncodings(Buffer.alloc(32, 1), Buffer.alloc(33, 2)), /unexpected P-256 key size/)
  })
})
