/** The services behind `pipelock tls init|show-ca` (transports.md §2.3). */
import {X509Certificate} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {parseGoDuration} from '../canonical/index.js'
import {PipelockError, shellWord} from '../errors/index.js'
import {refuseSpecialFile} from '../signing/index.js'
import {caPaths, generateCa, osErrorText, unreadableDates, writeCaFiles, type CaPaths} from './ca.js'

export interface TlsInitResult {
  readonly certPath: string
  readonly keyPath: string
}

/** `tls init`: validity parsed as a Go duration, CA generated, files written (refused if present without force). */
export function initCa(opts: {dir: string; org: string; validity: string; force: boolean; nowMs: number}): TlsInitResult {
  let validityMs: number
  try {
    validityMs = parseGoDuration(opts.validity)
  } catch (e) {
    throw new PipelockError('USAGE', `invalid validity: time: ${(e as Error).message}`)
  }
  const paths = caPaths(opts.dir)
  // The existence checks come before the (costless) generation so a refusal writes nothing.
  const ca = generateCa(opts.org, validityMs, opts.nowMs)
  writeCaFiles(paths, ca, opts.force)
  return {certPath: paths.cert, keyPath: paths.key}
}

/**
 * `show-ca`: the file's bytes, verbatim, once `checkCaCertPem` accepts them — a CA key given by
 * mistake (`--cert ca-key.pem`) is never printed.
 */
export function readCaCert(certPath: string): Buffer {
  refuseSpecialFile(certPath, 'CA cert')
  let data: Buffer
  try {
    data = readFileSync(certPath)
  } catch (e) {
    // No CA yet is the usual case on a new machine: say so, and how to make one.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PipelockError('TLS_CA_NOT_FOUND', `CA cert not found at ${certPath}`, {hint: createCaHint(certPath)})
    }
    throw new PipelockError('FILE_UNREADABLE', `read CA cert: ${osErrorText('open', certPath, e)}`)
  }
  checkCaCertPem(certPath, data)
  return data
}

/** The `tls init` that writes a CA certificate at `certPath` (it names its files ca.pem and ca-key.pem). */
function createCaHint(certPath: string): string {
  if (path.basename(certPath) === 'ca.pem') return `create the CA with: pipelock tls init --out ${shellWord(path.dirname(certPath))}`
  return `pipelock tls init --out DIR creates a CA as DIR/ca.pem (and DIR/ca-key.pem); pass that file as --cert`
}

/**
 * Refuses what must not be shown or installed as the interception CA: a file holding a private
 * key (a CA key passed as `--cert` would be printed, or copied into a world-readable trust
 * directory), or not a PEM certificate with the CA flag.
 */
export function checkCaCertPem(certPath: string, data: Buffer): void {
  const text = data.toString('latin1')
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    throw new PipelockError('TLS_CA_INVALID', `${certPath} holds a private key, not a CA certificate: refusing to show or install it`, {hint: 'pass the certificate (ca.pem), never ca-key.pem'})
  }
  let cert: X509Certificate
  try {
    cert = new X509Certificate(data)
  } catch (e) {
    throw new PipelockError('TLS_CA_INVALID', `${certPath} is not a PEM certificate: ${(e as Error).message}`)
  }
  if (!cert.ca) throw new PipelockError('TLS_CA_INVALID', `${certPath} is a certificate for ${JSON.stringify(cert.subject.replace(/\n/g, ', '))} but not a CA (basicConstraints CA:FALSE or absent)`)
  const unreadable = unreadableDates(cert)
  if (unreadable !== null) {
    throw new PipelockError('TLS_CA_INVALID', `${certPath}: the CA certificate's ${unreadable}; no client would accept it`, {hint: "generate a new CA with 'pipelock tls init --force' and install that one"})
  }
}

/** `install-ca`: the cert must exist and be a CA certificate (`checkCaCertPem`). */
export function requireCaCert(certPath: string): void {
  try {
    statSync(certPath)
  } catch (e) {
    throw new PipelockError('TLS_CA_NOT_FOUND', `CA cert not found at ${certPath} (run 'pipelock tls init' first): ${osErrorText('stat', certPath, e)}`)
  }
  readCaCert(certPath)
}

export type {CaPaths}
