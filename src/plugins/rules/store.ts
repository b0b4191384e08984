import {createHash, randomBytes} from 'node:crypto'
import {closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import {lazyYaml} from '../canonical/index.js'
import {goPathMatch} from '../canonical/index.js'
import {osErrorReason, PipelockError} from '../errors/index.js'
import {fsyncDir, liveLockOwner, lockOwnerText, makeDirs, markHeld, refuseSpecialFile, unmarkHeld, verifyBytes, writeFileAtomic, writeNewFileSynced} from '../signing/index.js'
import {BundleError, compareSemver, KNOWN_FEATURES, MAX_BUNDLE_BYTES, parseBundle, type Bundle, type BundleRule} from './bundle.js'
import {embeddedKeys} from './keyring.js'

// Installed rule bundles (scanners-extra.md §5.3–5.7): `<rules_dir>/<name>/bundle.yaml`,
// `bundle.yaml.sig` (base64 Ed25519 over the exact file bytes) and `bundle.lock`. A bundle is
// loaded only when its bytes match the lock's SHA-256 and, unless installed unsigned, its
// signature verifies with the pinned signer; a bundle that fails any check never loads.

export interface TrustedKey {
  name: string
  public_key: string
  tier?: string
}

export interface RulesSettings {
  rules_dir: string
  min_confidence: string
  include_experimental: boolean
  disabled: readonly string[]
  trusted_keys: readonly TrustedKey[]
}

export interface BundleLock {
  installed_version: string
  installed_at: string
  source: string
  last_check: string
  bundle_sha256: string
  signer_fingerprint: string
  unsigned: boolean
}

export type SignerTier = 'official' | 'third-party'

export interface Signer {
  fingerprint: string
  tier: SignerTier
  /** The trusted_keys name (third-party). */
  keyName?: string
}

/** `rules.rules_dir`, or `$XDG_DATA_HOME/pipelock/rules` / `~/.local/share/pipelock/rules`. */
export function resolveRulesDir(configured: string, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  if (configured !== '') return configured
  const xdg = env.XDG_DATA_HOME
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'pipelock', 'rules')
  const home = env.HOME ?? homedir()
  return home === '' ? undefined : path.join(home, '.local', 'share', 'pipelock', 'rules')
}

export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex')
}

/** Verifies `bundle.yaml.sig` text over the bundle bytes: the first key that verifies wins. */
export function verifyBundleSignature(bytes: Buffer, sigText: string, trusted: readonly TrustedKey[], keyring: readonly string[] = embeddedKeys()): Signer {
  const sig = Buffer.from(sigText.trim(), 'base64')
  if (sig.length !== 64) throw new BundleError(`invalid signature length: got ${sig.length}, want 64`)
  for (const k of keyring) {
    if (verifyBytes(Buffer.from(k, 'hex'), bytes, sig)) return {fingerprint: k, tier: 'official'}
  }
  for (const t of trusted) {
    const k = t.public_key.toLowerCase()
    if (/^[0-9a-f]{64}$/.test(k) && verifyBytes(Buffer.from(k, 'hex'), bytes, sig)) return {fingerprint: k, tier: 'third-party', keyName: t.name}
  }
  throw new BundleError('bundle signature: no matching signer found')
}

/** The checks a bundle passes before it may load or be installed (§5.5 step 3 after integrity). */
export function admitBundle(b: Bundle, signer: Signer | undefined, opts: {version?: string; trusted: readonly TrustedKey[]; now?: Date}): void {
  if (b.minPipelock !== undefined && opts.version !== undefined && compareSemver(opts.version, b.minPipelock) < 0) {
    throw new BundleError(`check min pipelock: current version "${opts.version}" is below minimum "${b.minPipelock}"`)
  }
  if (b.name.startsWith('pipelock-') && signer?.tier !== 'official') {
    throw new BundleError(`bundle name "${b.name}" uses reserved prefix "pipelock-" but signer is not official`)
  }
  if (b.formatVersion === 2) {
    if (signer === undefined) throw new BundleError('format_version 2 bundles must be signed (unsigned v2 bundles are rejected)')
    if (b.keyId !== signer.fingerprint) throw new BundleError(`key_id mismatch: bundle declares "${b.keyId}" but signed by "${signer.fingerprint}"`)
    const bound = opts.trusted.find((t) => t.tier !== undefined && t.tier === b.tier)
    if (bound !== undefined && bound.public_key.toLowerCase() !== signer.fingerprint) {
      throw new BundleError(`tier-key binding: tier "${b.tier}" requires key "${bound.public_key.toLowerCase()}" but signed by "${signer.fingerprint}"`)
    }
    for (const f of b.requiredFeatures ?? []) {
      if (!KNOWN_FEATURES.has(f)) throw new BundleError(`bundle requires unknown feature "${f}" (upgrade pipelock to use this bundle)`)
    }
    if (b.expiresAt !== undefined && Date.parse(b.expiresAt) <= (opts.now ?? new Date()).getTime()) {
      throw new BundleError(`bundle "${b.name}" expired at ${b.expiresAt}`)
    }
  }
}

function readCapped(file: string): Buffer {
  const st = statSync(file)
  if (st.size > MAX_BUNDLE_BYTES) throw new BundleError(`bundle is ${st.size} bytes, larger than ${MAX_BUNDLE_BYTES}`)
  return readFileSync(file)
}

export function readLock(dir: string): BundleLock {
  const text = readFileSync(path.join(dir, 'bundle.lock'), 'utf8')
  let doc: Partial<BundleLock> | null
  try {
    doc = lazyYaml().parse(text) as Partial<BundleLock> | null
  } catch (e) {
    // The YAML library's own message (its first line: what and where), not its code (MISSING_CHAR).
    throw new Error(`bundle.lock is not valid YAML: ${String((e as Error).message).split('\n')[0]}`)
  }
  if (doc === null || typeof doc !== 'object') throw new Error('bundle.lock is not a mapping')
  return {
    installed_version: String(doc.installed_version ?? ''),
    installed_at: String(doc.installed_at ?? ''),
    source: String(doc.source ?? ''),
    last_check: String(doc.last_check ?? ''),
    bundle_sha256: String(doc.bundle_sha256 ?? ''),
    signer_fingerprint: String(doc.signer_fingerprint ?? ''),
    unsigned: doc.unsigned === true,
  }
}

export interface InstalledBundle {
  dir: string
  name: string
  bundle: Bundle
  lock: BundleLock
  signer?: Signer
}

/** Reads one installed bundle and checks its integrity against its lock (§5.5 step 3). */
export function readInstalled(dir: string, opts: {trusted: readonly TrustedKey[]; version?: string; keyring?: readonly string[]}): InstalledBundle {
  let bytes: Buffer
  try {
    bytes = readCapped(path.join(dir, 'bundle.yaml'))
  } catch (e) {
    if (e instanceof BundleError) throw e
    throw new BundleError(`reading bundle: ${osErrorReason(e)}`)
  }
  let lock: BundleLock
  try {
    lock = readLock(dir)
  } catch (e) {
    throw new BundleError(`reading lock file: ${osErrorReason(e)}`)
  }
  let signer: Signer | undefined
  try {
    if (lock.bundle_sha256 !== '' && sha256Hex(bytes) !== lock.bundle_sha256) {
      throw new BundleError(`SHA-256 mismatch: lock says ${lock.bundle_sha256}, file is ${sha256Hex(bytes)}`)
    }
    if (!lock.unsigned) {
      let sigText: string
      try {
        sigText = readFileSync(path.join(dir, 'bundle.yaml.sig'), 'utf8')
      } catch {
        throw new BundleError('signature file bundle.yaml.sig is missing')
      }
      signer = verifyBundleSignature(bytes, sigText, opts.trusted, opts.keyring)
      if (signer.fingerprint !== lock.signer_fingerprint) {
        throw new BundleError(`signer ${signer.fingerprint} is not the pinned signer ${lock.signer_fingerprint}`)
      }
    }
  } catch (e) {
    if (e instanceof BundleError) throw new BundleError(`integrity check: ${e.message}`)
    throw e
  }
  let bundle: Bundle
  try {
    bundle = parseBundle(bytes)
  } catch (e) {
    if (e instanceof BundleError) throw new BundleError(`parse error: ${e.message}`)
    throw e
  }
  admitBundle(bundle, signer, opts)
  return {dir, name: path.basename(dir), bundle, lock, ...(signer === undefined ? {} : {signer})}
}

/** Where an installed bundle is read from. */
export interface BundleDir {
  name: string
  dir: string
  /**
   * Only `<name>.bak` exists: an install or update was cut short between the two renames of
   * writeBundleDir, and `dir` is that `.bak`, the last complete copy of the bundle. The next
   * command that takes the rules directory lock renames it back (recoverInterruptedSwaps).
   */
  interrupted: boolean
}

const STAGE_PREFIX = '.stage-'
const BAK_SUFFIX = '.bak'

/**
 * The installed bundles, in name order: every sub-directory `<name>` (`.`-prefixed entries, the
 * stages, are skipped), and `<name>.bak` where there is no `<name>`. Readers take no lock, so
 * after a crash between the renames of writeBundleDir they find the bundle only as `<name>.bak`.
 * It is read as that bundle (with `interrupted` set, for readers to report) rather than skipped:
 * it is a complete bundle that was enforcing rules, it passes the same digest and signature
 * checks as any other, and a security tool must not stop enforcing rules silently because an
 * install was cut short. A `.bak` beside its `<name>` is a spare old copy and is skipped.
 */
export function bundleDirs(rulesDir: string): BundleDir[] {
  let names: string[]
  try {
    names = readdirSync(rulesDir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new PipelockError('FILE_UNREADABLE', `rules directory ${rulesDir}: ${osErrorReason(e)}`, {hint: 'rules.rules_dir names a directory (created on the first install)'})
  }
  const present = new Set(names)
  const out: BundleDir[] = []
  for (const n of names) {
    if (n.startsWith('.')) continue
    try {
      if (!lstatSync(path.join(rulesDir, n)).isDirectory()) continue
    } catch {
      continue
    }
    if (!n.endsWith(BAK_SUFFIX)) out.push({name: n, dir: path.join(rulesDir, n), interrupted: false})
    else if (!present.has(n.slice(0, -BAK_SUFFIX.length))) out.push({name: n.slice(0, -BAK_SUFFIX.length), dir: path.join(rulesDir, n), interrupted: true})
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** What readers say about a bundle read from its `.bak` (BundleDir.interrupted). */
export function interruptedNote(name: string): string {
  return `read from ${name}${BAK_SUFFIX}: an install or update of it was cut short; the next pipelock rules install, update or remove puts it back (e.g. pipelock rules update ${name})`
}

const RANK: Record<string, number> = {high: 3, medium: 2, low: 1}

/** §5.5 step 4: the rules of a bundle that survive status, confidence and `disabled` filters. */
export function activeRules(b: Bundle, s: Pick<RulesSettings, 'min_confidence' | 'include_experimental' | 'disabled'>): BundleRule[] {
  const min = RANK[s.min_confidence === '' ? 'medium' : s.min_confidence] ?? 2
  return b.rules.filter((r) => {
    if (r.status === 'deprecated') return false
    if (r.status === 'experimental' && !s.include_experimental) return false
    if ((RANK[r.confidence] ?? 0) < min) return false
    const id = `${b.name}:${r.id}`
    return !s.disabled.some((d) => d.trim() === id || goPathMatch(d.trim(), id) === true)
  })
}

/**
 * Exclusive lock on the rules directory for mutating commands (§5.7). Once it is held, a swap that
 * a crash interrupted is put right (recoverInterruptedSwaps) before the caller looks at any
 * bundle, so every install, update and remove starts from whole `<name>` directories.
 */
export function lockRulesDir(rulesDir: string): () => void {
  const cannot = (e: unknown): PipelockError => new PipelockError('WRITE_FAILED', `rules directory ${rulesDir}: ${osErrorReason(e)}`, {hint: 'rules.rules_dir names a directory (created on the first install)'})
  try {
    makeDirs(rulesDir, 0o750)
  } catch (e) {
    throw cannot(e)
  }
  const file = path.join(rulesDir, '.rules.lock')
  const take = (): number => {
    try {
      return openSync(file, 'wx', 0o600)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw e
      throw cannot(e)
    }
  }
  let fd: number
  try {
    fd = take()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    if (liveLockOwner(file, readFileSync(file, 'utf8')) !== undefined) throw new PipelockError('RULES_LOCKED', `another rules command is running (lock: ${file})`)
    rmSync(file, {force: true}) // left behind by a process that is gone (or whose pid was reused)
    fd = take()
  }
  writeSync(fd, `${lockOwnerText()}\n`)
  closeSync(fd)
  markHeld(file)
  const release = (): void => {
    unmarkHeld(file)
    rmSync(file, {force: true})
  }
  try {
    recoverInterruptedSwaps(rulesDir)
  } catch (e) {
    release()
    throw new PipelockError('WRITE_FAILED', `recovering an interrupted install in ${rulesDir}: ${osErrorReason(e)}`)
  }
  return release
}

/**
 * Undoes or finishes a bundle swap (writeBundleDir) that a crash cut short. The caller holds the
 * rules directory lock, so no install is running and no other process owns a stage or a `.bak`:
 * - `<name>.bak` without `<name>`: the crash fell between the two renames; the `.bak` is the last
 *   complete bundle and is renamed back to `<name>`;
 * - `<name>.bak` beside a `<name>` directory: the swap completed (the new bundle was fsynced
 *   before its rename), only the removal of the old copy was lost; the `.bak` is removed;
 * - `.stage-*`: an install that never reached its swap; removed.
 * The rules directory is fsynced after any change.
 */
export function recoverInterruptedSwaps(rulesDir: string): void {
  const kind = (p: string): 'dir' | 'other' | 'none' => {
    try {
      return lstatSync(p).isDirectory() ? 'dir' : 'other'
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none'
      throw e
    }
  }
  let changed = false
  for (const n of readdirSync(rulesDir)) {
    const p = path.join(rulesDir, n)
    if (n.startsWith(STAGE_PREFIX)) {
      rmSync(p, {recursive: true, force: true})
      changed = true
    } else if (!n.startsWith('.') && n.endsWith(BAK_SUFFIX) && kind(p) === 'dir') {
      const target = p.slice(0, -BAK_SUFFIX.length)
      const t = kind(target)
      if (t === 'none') renameSync(p, target)
      else if (t === 'dir') rmSync(p, {recursive: true, force: true})
      else continue // not a layout writeBundleDir makes: left alone
      changed = true
    }
  }
  if (changed) fsyncDir(rulesDir)
}

export interface InstallRequest {
  rulesDir: string
  /** A directory with bundle.yaml (and bundle.yaml.sig), or a bundle.yaml file. */
  path: string
  allowUnsigned: boolean
  trusted: readonly TrustedKey[]
  version?: string
  keyring?: readonly string[]
  now?: Date
}

export interface InstallResult {
  name: string
  version: string
  status: 'installed' | 'unchanged'
  signed: boolean
  tier?: SignerTier
  signer?: string
  rules: number
  message: string
}

/** Verifies the signature (when there is one), parses and admits bundle bytes (§5.7 install checks). Throws BundleError. */
export function admitBytes(bytes: Buffer, sigText: string | undefined, opts: {trusted: readonly TrustedKey[]; version?: string; keyring?: readonly string[]; now?: Date}): {bundle: Bundle; signer?: Signer} {
  let signer: Signer | undefined
  if (sigText !== undefined) {
    try {
      signer = verifyBundleSignature(bytes, sigText, opts.trusted, opts.keyring)
    } catch (e) {
      if (e instanceof BundleError && e.message === 'bundle signature: no matching signer found') throw new BundleError('no matching signer found for bundle')
      throw e
    }
  }
  const bundle = parseBundle(bytes)
  admitBundle(bundle, signer, {trusted: opts.trusted, ...(opts.version === undefined ? {} : {version: opts.version}), ...(opts.now === undefined ? {} : {now: opts.now})})
  return {bundle, ...(signer === undefined ? {} : {signer})}
}

/** RFC 3339 UTC without fractional seconds (the lock's times). */
export function lockTime(now?: Date): string {
  return (now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z')
}

/**
 * Writes `<rules_dir>/<name>/` from verified bytes. Each file is written and fsynced in a stage
 * directory `.stage-<name>-*`, the stage directory is fsynced, then it is swapped in: `<name>` is
 * renamed to `<name>.bak`, the stage to `<name>`, the rules directory is fsynced, and the `.bak`
 * removed. A reader never sees a mix of old and new files, but between the two renames there is
 * no `<name>`: bundleDirs then reads `<name>.bak`, the old bundle, and if a crash leaves that
 * state on disk the next lockRulesDir puts it back (recoverInterruptedSwaps). The caller holds
 * the rules directory lock.
 */
export function writeBundleDir(rulesDir: string, name: string, bytes: Buffer, sigText: string | undefined, lock: BundleLock): void {
  const target = path.join(rulesDir, name)
  const stage = path.join(rulesDir, `${STAGE_PREFIX}${name}-${randomBytes(4).toString('hex')}`)
  mkdirSync(stage, {mode: 0o750})
  try {
    writeNewFileSynced(path.join(stage, 'bundle.yaml'), bytes, 0o600)
    if (sigText !== undefined) writeNewFileSynced(path.join(stage, 'bundle.yaml.sig'), sigText, 0o600)
    writeNewFileSynced(path.join(stage, 'bundle.lock'), lazyYaml().stringify(lock), 0o600)
    fsyncDir(stage)
  } catch (e) {
    // A full disk mid-stage: the half-written stage goes, the installed bundle is untouched.
    rmSync(stage, {recursive: true, force: true})
    throw new PipelockError('WRITE_FAILED', `installing ${name} into ${rulesDir}: ${osErrorReason(e)}; nothing was changed`)
  }
  const bak = `${target}${BAK_SUFFIX}`
  // A leftover `.bak` is removed before the swap only while `<name>` exists: it is then a spare
  // old copy. Without `<name>` the `.bak` is the only copy of the installed bundle (a swap cut
  // short; the lock's recovery normally has put it back already), so it stays until the new
  // bundle is in place and the rename is durable.
  if (existsSync(target)) {
    rmSync(bak, {recursive: true, force: true})
    renameSync(target, bak)
  }
  renameSync(stage, target)
  fsyncDir(rulesDir)
  rmSync(bak, {recursive: true, force: true})
}

/** Rewrites only the lock of an installed bundle (e.g. `last_check`). */
export function writeLock(dir: string, lock: BundleLock): void {
  writeFileAtomic(path.join(dir, 'bundle.lock'), lazyYaml().stringify(lock))
}

/** The install of verified bytes from `source` (a local path or an HTTPS URL), under the directory lock. */
export function installVerified(rulesDir: string, bytes: Buffer, sigText: string | undefined, admitted: {bundle: Bundle; signer?: Signer}, source: string, now?: Date): InstallResult {
  const {bundle, signer} = admitted
  const release = lockRulesDir(rulesDir)
  try {
    const target = path.join(rulesDir, bundle.name)
    const digest = sha256Hex(bytes)
    if (existsSync(path.join(target, 'bundle.lock'))) {
      const old = readLock(target)
      if (old.installed_version === bundle.version) {
        if (old.bundle_sha256 === digest) {
          return {name: bundle.name, version: bundle.version, status: 'unchanged', signed: signer !== undefined, ...(signer === undefined ? {} : {tier: signer.tier, signer: signer.fingerprint}), rules: bundle.rules.length, message: `bundle already installed at v${bundle.version} with same digest (skipping)`}
        }
        throw new PipelockError('RULES_BUNDLE_INVALID', `bundle v${bundle.version} already installed with different digest (possible republish attack)`)
      }
    }
    const at = lockTime(now)
    writeBundleDir(rulesDir, bundle.name, bytes, sigText, {
      installed_version: bundle.version,
      installed_at: at,
      source,
      last_check: at,
      bundle_sha256: digest,
      signer_fingerprint: signer?.fingerprint ?? '',
      unsigned: signer === undefined,
    })
    const kind = signer === undefined ? 'unsigned, local' : signer.tier
    return {
      name: bundle.name,
      version: bundle.version,
      status: 'installed',
      signed: signer !== undefined,
      ...(signer === undefined ? {} : {tier: signer.tier, signer: signer.fingerprint}),
      rules: bundle.rules.length,
      message: `Installed ${bundle.name} v${bundle.version} (${kind})`,
    }
  } finally {
    release()
  }
}

/** `rules install --path`: verify, admit, stage, swap (§5.7). */
export function installBundle(req: InstallRequest): InstallResult {
  const src = existsSync(req.path) && statSync(req.path).isDirectory() ? path.join(req.path, 'bundle.yaml') : req.path
  refuseSpecialFile(src, 'bundle')
  let bytes: Buffer
  try {
    bytes = readCapped(src)
  } catch (e) {
    if (e instanceof BundleError) throw new PipelockError('RULES_BUNDLE_INVALID', e.message)
    throw new PipelockError('FILE_NOT_FOUND', `${src}: ${osErrorReason(e)}`)
  }
  const sigFile = `${src}.sig`
  refuseSpecialFile(sigFile, 'bundle signature')
  const sigText = existsSync(sigFile) ? readFileSync(sigFile, 'utf8') : undefined
  let admitted: {bundle: Bundle; signer?: Signer}
  try {
    if (sigText === undefined && !req.allowUnsigned) {
      throw new BundleError(`${sigFile} not found: a bundle without a signature installs only with --allow-unsigned`)
    }
    admitted = admitBytes(bytes, sigText, req)
  } catch (e) {
    if (e instanceof BundleError) throw new PipelockError('RULES_BUNDLE_INVALID', `${src}: ${e.message}`)
    throw e
  }
  return installVerified(req.rulesDir, bytes, sigText, admitted, `local:${path.resolve(src)}`, req.now)
}

export interface ListedBundle {
  name: string
  version: string
  signed: boolean
  source: string
  lastCheck: string
  /** Present (true) for a bundle read from its `.bak` after an interrupted install (BundleDir.interrupted). */
  interrupted?: true
}

export function listBundles(rulesDir: string): ListedBundle[] {
  return bundleDirs(rulesDir).map(({name, dir, interrupted}) => {
    const note: {interrupted?: true} = interrupted ? {interrupted: true} : {}
    try {
      const l = readLock(dir)
      return {name, version: l.installed_version, signed: !l.unsigned, source: l.source, lastCheck: l.last_check, ...note}
    } catch (e) {
      const source = (e as NodeJS.ErrnoException).code === 'ENOENT' ? '(no lock file)' : '(unreadable lock file: rules verify says why)'
      return {name, version: '?', signed: false, source, lastCheck: '', ...note}
    }
  })
}

export interface VerifiedBundle {
  name: string
  ok: boolean
  /** `signature OK` / `SHA-256 OK`, or the failure; then interruptedNote for a bundle read from its `.bak`. */
  detail: string
}

export function verifyBundles(rulesDir: string, opts: {trusted: readonly TrustedKey[]; version?: string; keyring?: readonly string[]}): VerifiedBundle[] {
  return bundleDirs(rulesDir).map(({name, dir, interrupted}) => {
    const note = interrupted ? `; ${interruptedNote(name)}` : ''
    try {
      const b = readInstalled(dir, opts)
      return {name, ok: true, detail: (b.signer !== undefined ? 'signature OK' : 'SHA-256 OK') + note}
    } catch (e) {
      if (e instanceof BundleError) return {name, ok: false, detail: e.message + note}
      throw e
    }
  })
}

/**
 * The refusal of a command naming a bundle that is not installed; thrown before the lock when the
 * rules directory does not exist (the lock would create it).
 */
export function bundleNotInstalled(name: string): PipelockError {
  return new PipelockError('FILE_NOT_FOUND', `bundle "${name}" is not installed`)
}

export function removeBundle(rulesDir: string, name: string): void {
  if (!/^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/.test(name)) throw new PipelockError('USAGE', `"${name}" is not a bundle name (3 to 64 of a-z, 0-9 and -, starting and ending with a letter or digit)`)
  if (!existsSync(rulesDir)) throw bundleNotInstalled(name)
  const target = path.join(rulesDir, name)
  const release = lockRulesDir(rulesDir)
  try {
    // Looked at under the lock, after its recovery: a bundle a crash left only as `<name>.bak`
    // is `<name>` again here and is removed like any other.
    if (!existsSync(path.join(target, 'bundle.yaml')) && !existsSync(path.join(target, 'bundle.lock'))) throw bundleNotInstalled(name)
    rmSync(target, {recursive: true, force: true})
  } finally {
    release()
  }
}
