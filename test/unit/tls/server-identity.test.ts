import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import tls, {type DetailedPeerCertificate, type PeerCertificate, type TLSSocket} from 'node:tls'
import {generateKeyPairSync} from 'node:crypto'
import type {AddressInfo} from 'node:net'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {caPaths, generateCa, ipBytes, loadCa, toPem, withLeafOnlyIdentityCheck, writeCaFiles, type LoadedCa} from '../../../src/plugins/tls/index.js'
import {buildCertificate, extension, name, OID, randomSerial} from '../../../src/plugins/tls/certificate.js'
import {bits, implicit, oid, seq} from '../../../src/plugins/tls/der.js'

/** A subjectAltName entry: dNSName, iPAddress, URI or rfc822Name. */
type San = {dns: string} | {ip: string} | {uri: string} | {email: string}

function sanEntry(s: San): Buffer {
  if ('dns' in s) return implicit(2, Buffer.from(s.dns, 'latin1'))
  if ('ip' in s) return implicit(7, ipBytes(s.ip)!)
  if ('uri' in s) return implicit(6, Buffer.from(s.uri, 'latin1'))
  return implicit(1, Buffer.from(s.email, 'latin1'))
}

/** An origin certificate issued by `ca`: subject CN `cn`, and a subjectAltName of `sans` (none: no extension). */
function originCert(ca: LoadedCa, cn: string, sans: readonly San[]): {key: string; cert: string} {
  const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'prime256v1'})
  const now = Date.now()
  const der = buildCertificate({
    serial: randomSerial(),
    issuer: ca.subject,
    subject: name([[OID.commonName, cn]]),
    notBeforeMs: now - 3_600_000,
    notAfterMs: now + 86_400_000,
    spki: publicKey.export({type: 'spki', format: 'der'}),
    extensions: [
      extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)),
      extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
      ...(sans.length > 0 ? [extension(OID.subjectAltName, false, seq(...sans.map(sanEntry)))] : []),
    ],
    signer: ca.key,
  })
  return {key: privateKey.export({type: 'pkcs8', format: 'pem'}) as string, cert: toPem('CERTIFICATE', der)}
}

/** Certificates and the host names each is checked against (matching and not). */
const CASES: ReadonlyArray<{label: string; cn: string; sans: San[]; hosts: string[]}> = [
  {label: 'one IP address', cn: '127.0.0.1', sans: [{ip: '127.0.0.1'}], hosts: ['127.0.0.1', '127.0.0.2', 'localhost', '::ffff:127.0.0.1', '127.0.0.1.']},
  {label: 'one IPv6 address', cn: 'v6', sans: [{ip: '2001:db8::1'}], hosts: ['2001:db8::1', '2001:0db8:0:0:0:0:0:1', '2001:db8::2', 'v6']},
  {label: 'one name', cn: 'api.example.com', sans: [{dns: 'api.example.com'}], hosts: ['api.example.com', 'API.Example.COM', 'api.example.com.', 'www.example.com', 'example.com', '127.0.0.1']},
  {label: 'a wildcard', cn: 'x', sans: [{dns: '*.example.com'}], hosts: ['a.example.com', 'a.b.example.com', 'example.com', 'xn--bcher-kva.example.com']},
  {label: 'a partial wildcard and a *.tld', cn: 'x', sans: [{dns: 'f*.example.org'}, {dns: '*.org'}], hosts: ['foo.example.org', 'bar.example.org', 'example.org']},
  {label: 'names, addresses, a URI and an e-mail', cn: 'cn.example.net', sans: [{uri: 'https://u.example.net/'}, {email: 'ops@example.net'}, {dns: 'one.example.net'}, {ip: '10.1.2.3'}, {dns: 'two.example.net'}], hosts: ['two.example.net', 'cn.example.net', '10.1.2.3', 'u.example.net', 'three.example.net']},
  {label: 'a quoted entry (a comma in a URI)', cn: 'x', sans: [{uri: 'https://q.example/a,b'}, {dns: 'q.example'}], hosts: ['q.example', 'r.example']},
  {label: 'addresses only, a name host (the CN fallback)', cn: 'cn-only.example', sans: [{ip: '192.0.2.7'}], hosts: ['cn-only.example', 'other.example', '192.0.2.7']},
  {label: 'no subjectAltName at all', cn: 'bare.example', sans: [], hosts: ['bare.example', 'other.example', '192.0.2.8']},
  {label: '100 names (a CDN certificate)', cn: 'cdn', sans: Array.from({length: 100}, (_, k) => ({dns: `san${k}.cdn.example`})), hosts: ['san0.cdn.example', 'san99.cdn.example', 'san100.cdn.example']},
]

interface Served {
  readonly label: string
  readonly hosts: readonly string[]
  readonly port: number
  readonly server: tls.Server
}

/** The check's result as comparable data: pass, or the error's code, reason, host and message. */
function verdict(e: Error | undefined): unknown {
  if (e === undefined) return 'pass'
  const x = e as Error & {code?: string; reason?: string; host?: string}
  return {code: x.code, reason: x.reason, host: x.host, message: x.message}
}

function connect(port: number, ca: string, options: tls.ConnectionOptions = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({host: '127.0.0.1', port, ca, ...options}, () => resolve(s))
    s.once('error', reject)
  })
}

describe('the upstream identity check on the leaf alone (tls/server-identity.ts)', () => {
  let caPem: string
  const served: Served[] = []

  before(async () => {
    const paths = caPaths(mkdtempSync(path.join(tmpdir(), 'pl-identity-')))
    writeCaFiles(paths, generateCa('Identity test origin', 86_400_000, Date.now()), false)
    const ca = loadCa(paths)
    caPem = ca.cert.toString()
    for (const c of CASES) {
      // The origin keeps every connection open: the client reads its certificate, then closes.
      const server = tls.createServer(originCert(ca, c.cn, c.sans), (s) => void s.on('error', () => undefined))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      served.push({label: c.label, hosts: c.hosts, port: (server.address() as AddressInfo).port, server})
    }
  })
  after(() => {
    for (const s of served) s.server.close()
  })

  it("gives node's rule the same verdict on the leaf as on the detailed chain, for every certificate and host name", async () => {
    for (const s of served) {
      // The identity is checked by hand below; the connection itself only fetches the chain.
      const sock = await connect(s.port, caPem, {checkServerIdentity: () => undefined})
      const detailed = sock.getPeerCertificate(true)
      withLeafOnlyIdentityCheck(sock)
      const leaf = sock.getPeerCertificate(true)
      assert.equal(leaf.issuerCertificate, undefined, `${s.label}: the leaf alone`)
      assert.ok(detailed.issuerCertificate !== undefined, `${s.label}: the detailed form has the chain`)
      assert.equal(leaf.subjectaltname, detailed.subjectaltname, s.label)
      assert.deepEqual(leaf.subject, detailed.subject, s.label)
      for (const host of s.hosts) assert.deepEqual(verdict(tls.checkServerIdentity(host, leaf)), verdict(tls.checkServerIdentity(host, detailed)), `${s.label}: ${host}`)
      // Once only: the next call is the prototype's again.
      assert.ok(sock.getPeerCertificate(true).issuerCertificate !== undefined, `${s.label}: restored`)
      sock.destroy()
    }
  })

  it("is what node's handshake completion hands the check, a wrong name still fails the connection, and the socket is node's again after", async () => {
    const byLabel = (l: string): Served => served.find((s) => s.label === l)!
    const seen: boolean[] = []
    const spy = (host: string, cert: PeerCertificate): Error | undefined => {
      seen.push((cert as DetailedPeerCertificate).issuerCertificate !== undefined)
      return tls.checkServerIdentity(host, cert)
    }
    const via = (port: number, servername: string): Promise<TLSSocket> =>
      new Promise((resolve, reject) => {
        const s = withLeafOnlyIdentityCheck(tls.connect({host: '127.0.0.1', port, ca: caPem, servername, checkServerIdentity: spy}, () => resolve(s)))
        s.once('error', reject)
      })
    const ok = await via(byLabel('one name').port, 'api.example.com')
    assert.deepEqual(seen, [false], 'node checked the leaf alone (no chain built)')
    assert.ok(ok.getPeerCertificate(true).issuerCertificate !== undefined, 'the detailed form after the handshake')
    assert.equal(Object.prototype.hasOwnProperty.call(ok, 'getPeerCertificate'), false)
    ok.destroy()
    await assert.rejects(via(byLabel('one name').port, 'evil.example.com'), (e: Error & {code?: string}) => {
      assert.equal(e.code, 'ERR_TLS_CERT_ALTNAME_INVALID')
      assert.match(e.message, /evil\.example\.com/)
      return true
    })
    // An IP literal against an address SAN, and the CN fallback of a certificate with no dNSName.
    ;(await via(byLabel('one IP address').port, '127.0.0.1')).destroy()
    ;(await via(byLabel('addresses only, a name host (the CN fallback)').port, 'cn-only.example')).destroy()
    await assert.rejects(via(byLabel('no subjectAltName at all').port, 'other.example'), /is not cert's CN/)
  })
})
