/**
 * The interception CA (transports.md §2.2–§2.4): generation with the §2.4 profile, the files
 * `tls init` writes (0600, directories 0750), and loading with the reference's checks and
 * messages. The run-time resolution of empty paths goes through the keystore resolver, so
 * `PIPELOCK_HOME` means the same to `tls init` and to `run` (§6 #2 fixed).
 */
import {createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {PipelockError} from '../errors/index.js'
import {buildCertificate, extension, firstPemBlock, keyIdentifier, name, OID, randomSerial, toPem} from './certificate.js'
import {bits, children, content, oidText, readNode, seq, uint, bool, whole, type DerNode} from './der.js'
import {isDirectory, makeDirs, refuseSpecialFile, resolveKeystoreDir, stageFileAtomic, writePairAtomic, type StagedFile} from '../signing/index.js'

export const CA_FILE_MODE = 0o600
export const CA_DIR_MODE = 0o750
/** owner-execute, group-write/execute, any "other" bit (§2.1 item 7): 0600/0640/0400/0440 pass. */
export const CA_KEY_FORBIDDEN_BITS = 0o137

export interface CaPaths {
  readonly cert: string
  readonly key: string
}

/** `<home>/ca.pem` and `<home>/ca-key.pem`; explicit paths win. */
export function caPaths(home: string, cert = '', key = ''): CaPaths {
  return {cert: cert !== '' ? cert : path.join(home, 'ca.pem'), key: key !== '' ? key : path.join(home, 'ca-key.pem')}
}

/** Go-style text of an errno (`ENOENT` → `no such file or directory`). */
export function osErrorText(op: string, file: string, err: unknown): string {
  const code = (err as {code?: string}).code
  const text = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code === 'ENOTDIR' ? 'not a directory' : (err as Error).message
  return `${op} ${file}: ${text}`
}

export interface GeneratedCa {
  readonly certPem: string
  readonly keyPem: string
}

/**
 * The latest notAfter a certificate can hold: GeneralizedTime has four year digits (RFC 5280
 * §4.1.2.5.2). Past it the encoder wrote a year no parser reads ("Bad time value").
 */
export const MAX_NOT_AFTER_MS = Date.UTC(9999, 11, 31, 23, 59, 59)
export const MAX_NOT_AFTER_TEXT = '9999-12-31T23:59:59Z'

/** A fresh ECDSA P-256 CA, self-signed, valid from now − 1 h for `validityMs` (§2.4). */
export function generateCa(org: string, validityMs: number, nowMs: number): GeneratedCa {
  if (!(validityMs > 0)) throw new PipelockError('TLS_CA_INVALID', 'generate CA: CA validity must be positive')
  if (nowMs + validityMs > MAX_NOT_AFTER_MS) throw new PipelockError('TLS_CA_INVALID', `generate CA: CA validity ends after ${MAX_NOT_AFTER_TEXT}, the latest date a certificate can hold`)
  const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'prime256v1'})
  const spki = publicKey.export({type: 'spki', format: 'der'})
  const subject = name([[OID.organization, org], [OID.commonName, 'Pipelock CA']])
  const der = buildCertificate({
    serial: randomSerial(),
    issuer: subject,
    subject,
    notBeforeMs: nowMs - 3_600_000,
    notAfterMs: nowMs + validityMs,
    spki,
    extensions: [
      extension(OID.keyUsage, true, bits(Buffer.from([0x06]), 1)), // keyCertSign + cRLSign
      extension(OID.basicConstraints, true, seq(bool(true), uint(0))), // cA, pathLen 0
      extension(OID.subjectKeyId, false, Buffer.concat([Buffer.from([0x04, 20]), keyIdentifier(spki)])),
    ],
    signer: privateKey,
  })
  return {certPem: toPem('CERTIFICATE', der), keyPem: String(privateKey.export({type: 'sec1', format: 'pem'}))}
}

function exists(p: string): boolean {
  try {
    statSync(p)
    return true
  } catch {
    return false
  }
}

/**
 * Writes the CA files: both parent directories (0750), then the cert and the key, each staged
 * beside its target and renamed over it only once both are written (the reference writes the
 * cert in place and removes it when the key fails: docs/compatibility.md T3). Both files end at
 * 0600 even when `force` overwrites a file with another mode (§6 #3 fixed).
 */
export function writeCaFiles(paths: CaPaths, ca: GeneratedCa, force: boolean): void {
  if (!force) {
    if (exists(paths.cert)) throw new PipelockError('TLS_CA_EXISTS', `CA cert already exists at ${paths.cert} (use --force to overwrite)`)
    if (exists(paths.key)) throw new PipelockError('TLS_CA_EXISTS', `CA key already exists at ${paths.key} (use --force to overwrite)`)
  }
  const mkdir = (dir: string, what: string): void => {
    try {
      makeDirs(dir, CA_DIR_MODE)
    } catch (e) {
      throw new PipelockError('WRITE_FAILED', `create ${what} directory: ${osErrorText('mkdir', dir, e)}`)
    }
  }
  mkdir(path.dirname(paths.cert), 'cert')
  mkdir(path.dirname(paths.key), 'key')
  // Both files are written beside their targets first and only then renamed over them: a failed
  // write (full disk, the key path a directory) leaves the old pair in place, where writing the
  // cert in place and removing it when the key failed destroyed an existing CA under --force.
  const stage = (file: string, data: string, what: string): StagedFile => {
    try {
      if (isDirectory(file)) throw Object.assign(new Error('is a directory'), {code: 'EISDIR'})
      return stageFileAtomic(file, data, CA_FILE_MODE)
    } catch (e) {
      throw new PipelockError('WRITE_FAILED', `write CA ${what}: ${osErrorText('open', file, e)}`)
    }
  }
  writePairAtomic(
    (which) => (which === 0 ? stage(paths.cert, ca.certPem, 'cert') : stage(paths.key, ca.keyPem, 'key')),
    (step, e) => step === 'commit-first'
      ? new PipelockError('WRITE_FAILED', `write CA cert: ${osErrorText('rename', paths.cert, e)}`)
      : new PipelockError('WRITE_FAILED', `write CA key: ${osErrorText('rename', paths.key, e)}`),
  )
}

/**
 * The start-up checks of §2.1 items 5–7, in order: both files exist, and the key is not
 * group-writable or readable by others (group-read allowed for Kubernetes fsGroup volumes).
 */
export function checkCaFiles(paths: CaPaths): void {
  try {
    statSync(paths.cert)
  } catch (e) {
    throw new PipelockError('TLS_CA_NOT_FOUND', `CA cert not found at ${paths.cert} (run 'pipelock tls init'): ${osErrorText('stat', paths.cert, e)}`)
  }
  let mode: number
  try {
    mode = statSync(paths.key).mode & 0o777
  } catch (e) {
    throw new PipelockError('TLS_CA_NOT_FOUND', `CA key not found at ${paths.key} (run 'pipelock tls init'): ${osErrorText('stat', paths.key, e)}`)
  }
  if ((mode & CA_KEY_FORBIDDEN_BITS) !== 0) {
    throw new PipelockError('KEY_PERMISSIONS', `CA key ${paths.key} is too permissive (mode ${mode.toString(8).padStart(4, '0')}): restrict to 0600 or 0640`)
  }
}

/** A loaded CA: what leaf minting needs. */
export interface LoadedCa {
  readonly cert: X509Certificate
  readonly key: KeyObject
  /** The CA's subject Name DER, copied byte for byte into every leaf's issuer. */
  readonly subject: Buffer
  /** The CA's subjectKeyIdentifier (or one computed from its key), the leaves' AKID. */
  readonly keyId: Buffer
  readonly notAfterMs: number
}

function loadFail(detail: string): never {
  throw new PipelockError('TLS_CA_INVALID', `load TLS CA: ${detail} (run 'pipelock tls init' to generate)`)
}

/** The TBSCertificate's subject and extensions (by OID) of a certificate DER. */
function tbsParts(der: Buffer): {subject: Buffer; ext: Map<string, Buffer>} {
  const cert = readNode(der, 0)
  const tbs = children(der, children(der, cert)[0]!)
  // version [0] is present in v3; subject is the 6th field counting it.
  const off = tbs[0]!.tag === 0xa0 ? 1 : 0
  const subject = whole(der, tbs[4 + off]!)
  const ext = new Map<string, Buffer>()
  const extNode = tbs.find((n) => n.tag === 0xa3)
  if (extNode !== undefined) {
    for (const e of children(der, children(der, extNode)[0]!)) {
      const parts: DerNode[] = children(der, e)
      ext.set(oidText(content(der, parts[0]!)), content(der, parts[parts.length - 1]!))
    }
  }
  return {subject, ext}
}

/** The first PEM block of `file`, read and parsed by `parse`; every failure is one `load TLS CA` line. */
function loadPem<T>(file: string, what: 'cert' | 'key', parse: (block: {type: string; der: Buffer}) => T): T {
  refuseSpecialFile(file, `CA ${what}`)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    loadFail(`read CA ${what}: ${osErrorText('open', file, e)}`)
  }
  const block = firstPemBlock(text)
  if (block === null) loadFail(`no PEM block in CA ${what} file`)
  try {
    return parse(block)
  } catch (e) {
    loadFail(`parse CA ${what}: ${(e as Error).message}`)
  }
}

/** Loads and checks the CA (§2.2 steps 1–3); SEC1 and PKCS#8 EC keys are accepted (PKCS#8 is a widening). */
export function loadCa(paths: CaPaths): LoadedCa {
  const {cert, parts} = loadPem(paths.cert, 'cert', (b) => {
    const cert = new X509Certificate(b.der)
    // Decoded here, so a damaged key in a certificate that otherwise parses is a parse error of
    // the file (node decodes it only when asked, and its error names no file).
    if (cert.publicKey === undefined) throw new Error('no public key')
    return {cert, parts: tbsParts(b.der)}
  })
  const key = loadPem(paths.key, 'key', (b): KeyObject => {
    if (b.type !== 'EC PRIVATE KEY' && b.type !== 'PRIVATE KEY') throw new Error(`unexpected PEM block type ${b.type}`)
    const k = createPrivateKey({key: b.der, format: 'der', type: b.type === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8'})
    if (k.asymmetricKeyType !== 'ec') throw new Error('not an EC private key')
    return k
  })
  if (!cert.ca) loadFail('certificate is not a CA')
  const unreadable = unreadableDates(cert)
  if (unreadable !== null) loadFail(`CA certificate ${unreadable}`)
  const ku = parts.ext.get(OID.keyUsage)
  // KeyUsage BIT STRING: byte 0 = unused bits, byte 1 bit 5 (0x04) = keyCertSign.
  if (ku === undefined || ku.length < 4 || (ku[3]! & 0x04) === 0) loadFail('CA certificate missing KeyUsageCertSign')
  if (cert.publicKey.asymmetricKeyType !== 'ec') loadFail('CA certificate public key is not ECDSA')
  if (!cert.checkPrivateKey(key)) loadFail('CA key does not match certificate')
  const skid = parts.ext.get(OID.subjectKeyId)
  const keyId = skid !== undefined ? content(skid, readNode(skid, 0)) : keyIdentifier(cert.publicKey.export({type: 'spki', format: 'der'}))
  return {cert, key, subject: parts.subject, keyId: Buffer.from(keyId), notAfterMs: Date.parse(cert.validTo)}
}

/**
 * The CA `tls_interception` names, as `pipelock run` reads it at start: empty paths are the
 * pipelock home's `ca.pem` / `ca-key.pem` (resolved as `tls init` resolves it), the files' modes
 * checked, the pair loaded and checked. `check` and `doctor` call it too, so they refuse what run
 * refuses, in its words.
 */
export function loadConfiguredCa(t: {readonly ca_cert: string; readonly ca_key: string}, env: Readonly<Record<string, string | undefined>>, userHome: string): LoadedCa {
  const paths = caPaths(resolveKeystoreDir({env, userHome}), t.ca_cert, t.ca_key)
  checkCaFiles(paths)
  return loadCa(paths)
}

/**
 * Why the certificate's validity dates cannot be read (OpenSSL renders a malformed time as "Bad
 * time value"), or null when both can. Such a certificate fails every chain check.
 */
export function unreadableDates(cert: X509Certificate): string | null {
  for (const [field, text] of [['notBefore', cert.validFrom], ['notAfter', cert.validTo]] as const) {
    if (Number.isNaN(Date.parse(text))) return `${field} cannot be read (${JSON.stringify(text)})`
  }
  return null
}
