import {generateKeyPairSync} from 'node:crypto'
import {buildCertificate, extension, keyIdentifier, name, OID, randomSerial, toPem} from '../../src/plugins/tls/certificate.js'
import {bits, bool, seq, uint} from '../../src/plugins/tls/der.js'

/**
 * A CA certificate and SEC1 key with `tls init`'s profile but a notAfter in year 10000 or later:
 * five year digits, which no X.509 parser reads ("Bad time value") — what `tls init` wrote for a
 * validity past 9999-12-31 before it refused one.
 */
export function caWithUnreadableNotAfter(nowMs: number): {certPem: string; keyPem: string} {
  const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'prime256v1'})
  const spki = publicKey.export({type: 'spki', format: 'der'})
  const subject = name([[OID.organization, 'Pipelock'], [OID.commonName, 'Pipelock CA']])
  const der = buildCertificate({
    serial: randomSerial(),
    issuer: subject,
    subject,
    notBeforeMs: nowMs - 3_600_000,
    notAfterMs: Date.UTC(10000, 0, 1),
    spki,
    extensions: [
      extension(OID.keyUsage, true, bits(Buffer.from([0x06]), 1)),
      extension(OID.basicConstraints, true, seq(bool(true), uint(0))),
      extension(OID.subjectKeyId, false, Buffer.concat([Buffer.from([0x04, 20]), keyIdentifier(spki)])),
    ],
    signer: privateKey,
  })
  return {certPem: toPem('CERTIFICATE', der), keyPem: String(privateKey.export({type: 'sec1', format: 'pem'}))}
}
