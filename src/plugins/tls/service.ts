/** The services behind `pipelock tls init|show-ca` (transports.md §2.3). */
import {readFileSync, statSync} from 'node:fs'
import {parseGoDuration} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {caPaths, generateCa, osErrorText, writeCaFiles, type CaPaths} from './ca.js'

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

/** `show-ca`: the file's bytes, verbatim. */
export function readCaCert(certPath: string): Buffer {
  try {
    return readFileSync(certPath)
  } catch (e) {
    throw new PipelockError('FILE_UNREADABLE', `read CA cert: ${osErrorText('open', certPath, e)}`)
  }
}

/** `install-ca`: the cert must exist. */
export function requireCaCert(certPath: string): void {
  try {
    statSync(certPath)
  } catch (e) {
    throw new PipelockError('TLS_CA_NOT_FOUND', `CA cert not found at ${certPath} (run 'pipelock tls init' first): ${osErrorText('stat', certPath, e)}`)
  }
}

export type {CaPaths}
