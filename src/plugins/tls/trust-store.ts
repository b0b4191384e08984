/**
 * The upstream trust list (transports.md §1.2): Go's rules on Linux, because Node's default is
 * its bundled Mozilla list and an explicit `ca` replaces it. `SSL_CERT_FILE` replaces the
 * bundle file (else the first existing well-known bundle), every file in the `SSL_CERT_DIR`
 * directories (default /etc/ssl/certs, /etc/pki/tls/certs) is added, Node's bundled roots are
 * the fallback when nothing is found, and `NODE_EXTRA_CA_CERTS` is appended.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {rootCertificates} from 'node:tls'

const BUNDLE_FILES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
]
const CERT_DIRS = ['/etc/ssl/certs', '/etc/pki/tls/certs']

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

function certsIn(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').match(PEM_CERT) ?? []
  } catch {
    return []
  }
}

/** The PEM certificates to pass as `ca` on every upstream TLS leg; `env` is the process environment. */
export function buildTrustStore(env: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = []
  const file = env.SSL_CERT_FILE !== undefined && env.SSL_CERT_FILE !== '' ? env.SSL_CERT_FILE : BUNDLE_FILES.find((f) => certsIn(f).length > 0)
  if (file !== undefined) out.push(...certsIn(file))
  const dirs = env.SSL_CERT_DIR !== undefined && env.SSL_CERT_DIR !== '' ? env.SSL_CERT_DIR.split(':') : CERT_DIRS
  const seen = new Set(out)
  for (const dir of dirs) {
    let names: string[]
    try {
      names = readdirSync(dir).sort()
    } catch {
      continue
    }
    for (const n of names) {
      const p = path.join(dir, n)
      try {
        if (!statSync(p).isFile()) continue
      } catch {
        continue
      }
      for (const c of certsIn(p)) if (!seen.has(c)) (seen.add(c), out.push(c))
    }
  }
  if (out.length === 0) out.push(...rootCertificates)
  const extra = env.NODE_EXTRA_CA_CERTS
  if (extra !== undefined && extra !== '') out.push(...certsIn(extra))
  return out
}
