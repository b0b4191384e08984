/**
 * Remote rule bundles (scanners-extra.md §5.7): `rules install <https URL | name>` and `rules
 * update [name]`. A bundle is fetched over HTTPS only (a redirect to anything else is refused),
 * with its signature at `<url>.sig`; the signature is verified against the embedded keyring and
 * `rules.trusted_keys` and the bundle validated before anything is written. An update that fails
 * any check leaves the installed bundle exactly as it was.
 */
import {existsSync} from 'node:fs'
import https from 'node:https'
import path from 'node:path'
import {osErrorReason, PipelockError} from '../errors/index.js'
import {BundleError, MAX_BUNDLE_BYTES, type Bundle} from './bundle.js'
import {admitBytes, bundleDirs, bundleNotInstalled, installVerified, lockRulesDir, lockTime, readLock, sha256Hex, writeBundleDir, writeLock, type InstallResult, type Signer, type TrustedKey} from './store.js'

/** The official registry: `rules install <name>` fetches `<base>/<name>/bundle.yaml`. */
export const OFFICIAL_REGISTRY = 'https://pipelab.org/rules'
export const FETCH_TIMEOUT_MS = 30_000
const MAX_REDIRECTS = 5

export type Fetcher = (url: string, maxBytes: number) => Promise<Buffer>

/** GET over HTTPS: status 200, at most `maxBytes`, redirects followed only to https URLs. */
export const httpsGet: Fetcher = async (url, maxBytes) => {
  let current = url
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (!current.startsWith('https://')) {
      throw new PipelockError('RULES_FETCH_FAILED', hop === 0 ? `remote source must use HTTPS: ${current}` : `redirect to non-HTTPS URL refused: ${current}`)
    }
    const r = await getOnce(current, maxBytes)
    if (r.location === undefined) return r.body
    current = new URL(r.location, current).toString()
  }
  throw new PipelockError('RULES_FETCH_FAILED', `fetching ${url}: more than ${MAX_REDIRECTS} redirects`)
}

async function getOnce(url: string, maxBytes: number): Promise<{body: Buffer; location?: string}> {
  return await new Promise((resolve, reject) => {
    const fail = (m: string): void => reject(new PipelockError('RULES_FETCH_FAILED', `fetching ${url}: ${m}`))
    const req = https.get(url, {timeout: FETCH_TIMEOUT_MS, headers: {accept: 'application/yaml, text/plain, */*'}}, (res) => {
      const status = res.statusCode ?? 0
      if (status >= 300 && status < 400 && res.headers.location !== undefined) {
        res.resume()
        return resolve({body: Buffer.alloc(0), location: res.headers.location})
      }
      if (status !== 200) {
        res.resume()
        return fail(`HTTP ${status}`)
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.length
        if (size > maxBytes) {
          req.destroy()
          reject(new PipelockError('RULES_FETCH_FAILED', `response exceeds maximum bundle size (${maxBytes} bytes)`))
        } else chunks.push(c)
      })
      res.on('end', () => resolve({body: Buffer.concat(chunks)}))
      res.on('error', (e) => fail(e.message))
    })
    req.on('timeout', () => req.destroy(new Error(`timed out after ${FETCH_TIMEOUT_MS / 1000} s`)))
    req.on('error', (e) => fail((e as NodeJS.ErrnoException).code ?? e.message))
  })
}

export interface RemoteOptions {
  rulesDir: string
  trusted: readonly TrustedKey[]
  version?: string
  keyring?: readonly string[]
  now?: Date
  fetch?: Fetcher
}

/** The bundle and its signature from `url` (the signature at `<url>.sig`; none is a failure). */
async function fetchSigned(url: string, fetch: Fetcher): Promise<{bytes: Buffer; sigText: string}> {
  const bytes = await fetch(url, MAX_BUNDLE_BYTES)
  const sig = await fetch(`${url}.sig`, 1024).catch((e: unknown) => {
    if (e instanceof PipelockError) throw new PipelockError('RULES_FETCH_FAILED', `signature: ${e.message}`)
    throw e
  })
  return {bytes, sigText: sig.toString('utf8')}
}

function admitOrRefuse(url: string, bytes: Buffer, sigText: string, o: RemoteOptions): {bundle: Bundle; signer?: Signer} {
  try {
    return admitBytes(bytes, sigText, o)
  } catch (e) {
    if (e instanceof BundleError) throw new PipelockError('RULES_BUNDLE_INVALID', `${url}: ${e.message}`)
    throw e
  }
}

/** `rules install <https URL | name>`: a name is looked up in the official registry and must match the bundle's own. */
export async function installRemote(source: string, o: RemoteOptions): Promise<InstallResult> {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(source)
  if (!isUrl && !/^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/.test(source)) throw new PipelockError('USAGE', `"${source}" is neither an HTTPS URL nor a bundle name`)
  const url = isUrl ? source : `${OFFICIAL_REGISTRY}/${source}/bundle.yaml`
  if (!url.startsWith('https://')) throw new PipelockError('RULES_FETCH_FAILED', `remote source must use HTTPS: ${url}`)
  const {bytes, sigText} = await fetchSigned(url, o.fetch ?? httpsGet)
  const admitted = admitOrRefuse(url, bytes, sigText, o)
  if (!isUrl && admitted.bundle.name !== source) {
    throw new PipelockError('RULES_BUNDLE_INVALID', `${url}: bundle name "${admitted.bundle.name}" does not match the requested "${source}"`)
  }
  return installVerified(o.rulesDir, bytes, sigText, admitted, url, o.now)
}

export interface UpdateOptions extends RemoteOptions {
  /** Accept an older version, or the same version with another digest. */
  force?: boolean
  /** Accept a signer other than the one pinned in the lock. */
  allowKeyRotation?: boolean
}

export interface UpdateOutcome {
  name: string
  status: 'updated' | 'up-to-date' | 'skipped' | 'failed'
  from?: string
  to?: string
  message: string
}

/** CalVer `YYYY.M.patch` compared numerically. */
export function compareCalVer(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** One installed bundle against its source. Throws PipelockError on any failure; writes only on success. */
async function updateOne(dir: string, o: UpdateOptions): Promise<UpdateOutcome> {
  const name = path.basename(dir)
  let lock
  try {
    lock = readLock(dir)
  } catch (e) {
    throw new PipelockError('RULES_BUNDLE_INVALID', `reading lock file: ${osErrorReason(e)}`)
  }
  if (lock.unsigned || !lock.source.startsWith('https://')) return {name, status: 'skipped', message: `skipping ${name}: installed from local path`}
  const {bytes, sigText} = await fetchSigned(lock.source, o.fetch ?? httpsGet)
  const admitted = admitOrRefuse(lock.source, bytes, sigText, o)
  const {bundle, signer} = admitted
  const refuse = (m: string): never => {
    throw new PipelockError('RULES_BUNDLE_INVALID', m)
  }
  if (signer !== undefined && signer.fingerprint !== lock.signer_fingerprint && o.allowKeyRotation !== true) {
    refuse(`signer fingerprint mismatch: pinned "${lock.signer_fingerprint}", got "${signer.fingerprint}" (use --allow-key-rotation to permit key changes)`)
  }
  if (bundle.name !== name) refuse(`bundle name changed: installed "${name}", remote "${bundle.name}"`)
  const digest = sha256Hex(bytes)
  const cmp = compareCalVer(bundle.version, lock.installed_version)
  if (cmp < 0 && o.force !== true) refuse(`remote v${bundle.version} is older than installed v${lock.installed_version} (use --force to downgrade)`)
  if (cmp === 0 && digest === lock.bundle_sha256) {
    writeLock(dir, {...lock, last_check: lockTime(o.now)})
    return {name, status: 'up-to-date', from: lock.installed_version, to: bundle.version, message: `${name} v${bundle.version}: already up to date`}
  }
  if (cmp === 0 && o.force !== true) refuse(`${name} v${bundle.version} was republished with a different digest (possible republish attack; use --force to accept)`)
  const at = lockTime(o.now)
  writeBundleDir(o.rulesDir, name, bytes, sigText, {
    installed_version: bundle.version,
    installed_at: at,
    source: lock.source,
    last_check: at,
    bundle_sha256: digest,
    signer_fingerprint: signer?.fingerprint ?? '',
    unsigned: false,
  })
  return {name, status: 'updated', from: lock.installed_version, to: bundle.version, message: `Updated ${name}: v${lock.installed_version} -> v${bundle.version}`}
}

/** `rules update [name]`: every installed bundle (or the one named) against its source; failures are reported per bundle. */
export async function updateBundles(only: string | undefined, o: UpdateOptions): Promise<UpdateOutcome[]> {
  if (only !== undefined && !existsSync(o.rulesDir)) throw bundleNotInstalled(only)
  const release = lockRulesDir(o.rulesDir)
  try {
    // Listed under the lock, after its recovery: a bundle a crash left only as `<name>.bak` is
    // `<name>` again, and no install can change the list while the updates run.
    const dirs = bundleDirs(o.rulesDir).filter((d) => only === undefined || d.name === only)
    if (only !== undefined && dirs.length === 0) throw bundleNotInstalled(only)
    const out: UpdateOutcome[] = []
    for (const d of dirs) {
      try {
        out.push(await updateOne(d.dir, o))
      } catch (e) {
        if (!(e instanceof PipelockError)) throw e
        out.push({name: d.name, status: 'failed', message: `${d.name}: ${e.message}`})
      }
    }
    return out
  } finally {
    release()
  }
}
