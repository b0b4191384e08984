import {lstatSync, mkdirSync, readFileSync, realpathSync, statSync} from 'node:fs'
import path from 'node:path'
import {osErrorReason, PipelockError, shellWord} from '../errors/index.js'
import {generateKeyPair, goPrivateKey, keyPairFromGoPrivateKey, type Ed25519KeyPair} from './ed25519.js'
import {stageFileAtomic, writeFileAtomic, writePairAtomic, type StagedFile} from './atomic-write.js'
import {fingerprint} from './fingerprint.js'
import {goErrnoText, goQ, octalPerm} from './go-fmt.js'
import {decodePrivateKeyText, decodePublicKeyText, encodePrivateKeyText, encodePublicKeyText} from './key-text.js'
import {refuseSpecialFile} from './input-file.js'
import {makeDirs} from './make-dirs.js'

// The agent keystore (learn-lifecycle.md §8.3):
//   <keystore>/agents/<name>/id_ed25519       private key, 0600
//   <keystore>/agents/<name>/id_ed25519.pub   public key, 0644
//   <keystore>/trusted_keys/<name>.pub        `pipelock trust` copies, 0600
// Directories are 0750. The agent name is the key id the roster must list.

export const KEYSTORE_DIR_MODE = 0o750
export const PRIVATE_KEY_MODE = 0o600
export const PUBLIC_KEY_MODE = 0o644
export const TRUSTED_KEY_MODE = 0o600
/** Group-write and any "other" bit: a private key with one of these set is refused. */
export const PRIVATE_KEY_FORBIDDEN_BITS = 0o037

export interface KeystoreLocation {
  /** `--keystore` */
  keystore?: string
  /** global `--home` */
  home?: string
  /** the process environment (read by the command layer, passed in) */
  env?: Readonly<Record<string, string | undefined>>
  /** the user's home directory (os.homedir()) */
  userHome: string
}

/** `--keystore` > `--home` > `$PIPELOCK_HOME` > `~/.pipelock`. */
export function resolveKeystoreDir(loc: KeystoreLocation): string {
  const pick = [loc.keystore, loc.home, loc.env?.PIPELOCK_HOME].find((v) => v !== undefined && v !== '')
  return path.resolve(pick ?? path.join(loc.userHome, '.pipelock'))
}

const NAME_OK = /^[A-Za-z0-9._-]{1,64}$/

/** Throws AGENT_NAME_INVALID with the reference's texts. */
export function validateAgentName(name: string): void {
  if (name === '') throw new PipelockError('AGENT_NAME_INVALID', 'agent name cannot be empty')
  if (name.includes('..')) throw new PipelockError('AGENT_NAME_INVALID', `agent name ${goQ(name)} contains path traversal sequence`)
  if (name === '.') throw new PipelockError('AGENT_NAME_INVALID', `agent name ${goQ(name)} is not allowed`)
  if (!NAME_OK.test(name)) {
    const sanitised = Array.from(name, (ch) => (/^[A-Za-z0-9._-]$/.test(ch) ? ch : '_')).join('').slice(0, 64)
    // The message is the reference's (learn-lifecycle.md §8.3) even for a name that is only too
    // long; the hint says what is actually wrong with it.
    const length = Array.from(name).length
    const hint = length > 64 ? {hint: `agent names are at most 64 characters; this one has ${length}`} : {}
    throw new PipelockError('AGENT_NAME_INVALID', `agent name ${goQ(name)} contains invalid characters (use ${goQ(sanitised)})`, hint)
  }
}

export function agentDir(keystore: string, name: string): string {
  return path.join(keystore, 'agents', name)
}
export function agentPrivateKeyPath(keystore: string, name: string): string {
  return path.join(agentDir(keystore, name), 'id_ed25519')
}
export function agentPublicKeyPath(keystore: string, name: string): string {
  return path.join(agentDir(keystore, name), 'id_ed25519.pub')
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p)
  // `..data` (Kubernetes' secret dir) is inside; only a `..` path segment leaves.
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel))
}

function realKeystore(keystore: string): string {
  try {
    return realpathSync(keystore)
  } catch (e) {
    throw new PipelockError('FILE_UNREADABLE', `keystore ${keystore}: ${goErrnoText(e)}`)
  }
}

/** mkdir (0750) unless present, then refuse if the directory resolves outside the keystore. */
function ensureContainedDir(dir: string, ksReal: string, what: string): string {
  try {
    mkdirSync(dir, {mode: KEYSTORE_DIR_MODE})
  } catch (e) {
    if ((e as {code?: string}).code !== 'EEXIST') {
      throw new PipelockError('WRITE_FAILED', `creating ${what} ${dir}: ${goErrnoText(e)}`)
    }
  }
  let real: string
  try {
    real = realpathSync(dir)
  } catch (e) {
    throw new PipelockError('PATH_UNSAFE', `${what} ${dir}: ${goErrnoText(e)}`)
  }
  if (!isInside(ksReal, real)) {
    throw new PipelockError('PATH_UNSAFE', `${what} ${dir} resolves outside keystore ${ksReal} (to ${real})`)
  }
  if (!statSync(real).isDirectory()) throw new PipelockError('PATH_UNSAFE', `${what} ${dir} is not a directory`)
  return real
}

export interface AgentKeyResult {
  agent: string
  keystore: string
  privateKeyPath: string
  publicKeyPath: string
  publicKeyHex: string
  fingerprint: string
}

/** `pipelock keygen <agent>`: a fresh Ed25519 pair in the keystore. */
export function generateAgentKeys(
  keystore: string,
  name: string,
  options: {force?: boolean; keyPair?: Ed25519KeyPair} = {},
): AgentKeyResult {
  validateAgentName(name)
  const privPath = agentPrivateKeyPath(keystore, name)
  const pubPath = agentPublicKeyPath(keystore, name)
  if (!options.force && pathPresent(privPath)) {
    throw new PipelockError('KEY_EXISTS', `keys already exist for agent ${goQ(name)} (use --force to overwrite)`)
  }
  try {
    makeDirs(keystore, KEYSTORE_DIR_MODE)
  } catch (e) {
    throw new PipelockError('WRITE_FAILED', `creating keystore ${keystore}: ${goErrnoText(e)}`)
  }
  const ksReal = realKeystore(keystore)
  const agentsReal = ensureContainedDir(path.join(keystore, 'agents'), ksReal, 'agents directory')
  const dirReal = ensureContainedDir(path.join(agentsReal, name), ksReal, 'agent directory')
  const privFile = path.join(dirReal, 'id_ed25519')
  const pubFile = path.join(dirReal, 'id_ed25519.pub')
  // Both places are checked, and both files written beside them, before either is replaced: a
  // .pub that could not be written (a directory in its place, a full disk) used to fail after the
  // private key was already replaced, leaving a new private key beside the old public one.
  refuseKeyTarget(privFile, privPath)
  refuseKeyTarget(pubFile, pubPath)
  const kp = options.keyPair ?? generateKeyPair()
  // Private first: a crash between the renames leaves a private key without a .pub, never the reverse.
  writePairAtomic(
    (which) => (which === 0
      ? stageKey(privFile, privPath, encodePrivateKeyText(goPrivateKey(kp)), PRIVATE_KEY_MODE)
      : stageKey(pubFile, pubPath, encodePublicKeyText(kp.publicKey), PUBLIC_KEY_MODE)),
    (step, e) => step === 'commit-first'
      ? new PipelockError('WRITE_FAILED', `writing ${privPath}: ${osErrorReason(e)}; nothing was written`)
      : new PipelockError('WRITE_FAILED', `writing ${pubPath}: ${osErrorReason(e)}; the private key was written, the public key was not`),
  )
  return {
    agent: name,
    keystore,
    privateKeyPath: privPath,
    publicKeyPath: pubPath,
    publicKeyHex: kp.publicKey.toString('hex'),
    fingerprint: fingerprint(kp.publicKey),
  }
}

/** A key file's place must be free or hold a file (or a link) that may be replaced: never a directory. */
function refuseKeyTarget(file: string, shown: string): void {
  let st
  try {
    st = lstatSync(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
    throw new PipelockError('WRITE_FAILED', `writing ${shown}: ${osErrorReason(e)}; nothing was written`)
  }
  if (st.isFile() || st.isSymbolicLink()) return
  throw new PipelockError('WRITE_FAILED', `writing ${shown}: ${st.isDirectory() ? 'is a directory' : 'is not a regular file'}; nothing was written`, {
    hint: `move ${shellWord(shown)} out of the way, then run keygen again`,
  })
}

/** The key file written in full beside its place, not yet renamed into it. */
function stageKey(file: string, shown: string, text: string, mode: number): StagedFile {
  try {
    return stageFileAtomic(file, text, mode)
  } catch (e) {
    throw new PipelockError('WRITE_FAILED', `writing ${shown}: ${osErrorReason(e)}; nothing was written`)
  }
}

function pathPresent(p: string): boolean {
  try {
    lstatSync(p)
    return true
  } catch {
    return false
  }
}

/** The permission gate shared by keystore keys and JSON key files. */
export function checkPrivateKeyMode(displayPath: string, mode: number): void {
  if ((mode & PRIVATE_KEY_FORBIDDEN_BITS) !== 0) {
    throw new PipelockError(
      'KEY_PERMISSIONS',
      `private key ${displayPath} has permissions ${octalPerm(mode)}, want 0600 or 0640 (run: chmod 640 ${shellWord(displayPath)})`,
    )
  }
}

export interface LoadedAgentKey {
  agent: string
  path: string
  keyPair: Ed25519KeyPair
  publicKeyHex: string
  fingerprint: string
}

/**
 * Loads `agents/<name>/id_ed25519`: the name is validated, the file must resolve inside the
 * (symlink-resolved) keystore, its target must not be group-writable or visible to others, and
 * the two halves of the Go private key must agree. Symlinks inside the keystore are followed on
 * purpose (Kubernetes mounts secrets as symlinks).
 */
export function loadAgentPrivateKey(keystore: string, name: string): LoadedAgentKey {
  validateAgentName(name)
  const p = agentPrivateKeyPath(keystore, name)
  let ksReal: string
  let real: string
  try {
    ksReal = realpathSync(keystore)
    real = realpathSync(p)
  } catch (e) {
    throw new PipelockError('FILE_NOT_FOUND', `private key containment check: ${p}: ${goErrnoText(e)}`, {
      hint: `create the agent's key pair with: pipelock keygen ${shellWord(name)} --keystore ${shellWord(keystore)}`,
    })
  }
  if (!isInside(ksReal, real)) {
    throw new PipelockError('PATH_UNSAFE', `private key containment check: ${p} resolves outside keystore ${ksReal}`)
  }
  const st = statSync(real)
  if (!st.isFile()) throw new PipelockError('KEY_INVALID', `private key ${p} is not a regular file`)
  checkPrivateKeyMode(p, st.mode)
  let text: string
  try {
    text = readFileSync(real, 'utf8')
  } catch (e) {
    throw new PipelockError('FILE_UNREADABLE', `reading private key ${p}: ${goErrnoText(e)}`)
  }
  const raw = decodePrivateKeyText(text)
  let keyPair: Ed25519KeyPair
  try {
    keyPair = keyPairFromGoPrivateKey(raw)
  } catch (e) {
    throw new PipelockError('KEY_INVALID', (e as Error).message)
  }
  return {agent: name, path: p, keyPair, publicKeyHex: keyPair.publicKey.toString('hex'), fingerprint: fingerprint(keyPair.publicKey)}
}

/** Reads `agents/<name>/id_ed25519.pub`. */
export function loadAgentPublicKey(keystore: string, name: string): Buffer {
  validateAgentName(name)
  const p = agentPublicKeyPath(keystore, name)
  refuseSpecialFile(p, 'public key')
  let text: string
  try {
    text = readFileSync(p, 'utf8')
  } catch (e) {
    throw new PipelockError('FILE_NOT_FOUND', `reading public key ${p}: ${goErrnoText(e)}`)
  }
  return decodePublicKeyText(text)
}

export interface TrustResult {
  agent: string
  path: string
  fingerprint: string
}

/** `pipelock trust <name> <pubfile>`: validates the key and stores a 0600 copy in trusted_keys/. */
export function trustAgentKey(keystore: string, name: string, pubFile: string, options: {force?: boolean} = {}): TrustResult {
  validateAgentName(name)
  refuseSpecialFile(pubFile, 'public key')
  let text: string
  try {
    text = readFileSync(pubFile, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EISDIR') throw new PipelockError('FILE_UNREADABLE', `reading public key ${pubFile}: is a directory`, {hint: 'name the public key file (id_ed25519.pub), not a directory'})
    throw new PipelockError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `reading public key ${pubFile}: ${goErrnoText(e)}`)
  }
  const pub = decodePublicKeyText(text)
  const dest = path.join(keystore, 'trusted_keys', `${name}.pub`)
  if (!options.force && pathPresent(dest)) {
    throw new PipelockError('FILE_EXISTS', `trusted key for agent ${goQ(name)} already exists (use --force to overwrite)`)
  }
  try {
    makeDirs(keystore, KEYSTORE_DIR_MODE)
  } catch (e) {
    throw new PipelockError('WRITE_FAILED', `creating keystore ${keystore}: ${goErrnoText(e)}`)
  }
  const ksReal = realKeystore(keystore)
  const dirReal = ensureContainedDir(path.join(keystore, 'trusted_keys'), ksReal, 'trusted_keys directory')
  writeFileAtomic(path.join(dirReal, `${name}.pub`), encodePublicKeyText(pub), TRUSTED_KEY_MODE)
  return {agent: name, path: dest, fingerprint: fingerprint(pub)}
}

