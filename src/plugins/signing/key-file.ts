import {closeSync, fstatSync, lstatSync, openSync, readSync} from 'node:fs'
import path from 'node:path'
import {
  decodeGoHex,
  formatUtcSeconds,
  fromPlain,
  goJsonIndent,
  JsonNumber,
  jsonTypeName,
  parseJson,
  type Clock,
  type JsonValue,
} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {generateKeyPair, goPrivateKey, keyPairFromSeed, type Ed25519KeyPair} from './ed25519.js'
import {writeFileAtomic} from './atomic-write.js'
import {fingerprint} from './fingerprint.js'
import {goErrnoText, goFileMode, goQ} from './go-fmt.js'
import {refuseSpecialFile} from './input-file.js'
import {keyTextKind} from './key-text.js'
import {checkPrivateKeyMode} from './keystore.js'
import {isKeyPurpose, type KeyPurpose} from './purposes.js'

// JSON deployment key files (learn-lifecycle.md §8.4), written by `pipelock signing key generate`
// and read by `signing roster build --root/--include`.

export const KEY_FILE_SIZE_CAP = 16384
export const KEY_FILE_FIELDS = ['schema_version', 'purpose', 'key_id', 'public', 'private', 'created_at'] as const

export interface KeyFile {
  path: string
  purpose: KeyPurpose
  keyId: string
  publicKey: Buffer
  /** lowercase hex */
  publicKeyHex: string
  keyPair: Ed25519KeyPair
  createdAt: string
  fingerprint: string
}

/** `unknown key_purpose: "<x>"` (§8.1). */
export function checkPurpose(purpose: string): KeyPurpose {
  if (!isKeyPurpose(purpose)) throw new PipelockError('KEY_PURPOSE_INVALID', `unknown key_purpose: ${goQ(purpose)}`)
  return purpose
}

function invalid(message: string): PipelockError {
  return new PipelockError('KEY_INVALID', message)
}

/** Reads and checks a key file; every refusal and text of §8.4, in order. */
export function loadKeyFile(file: string, expectedPurpose?: KeyPurpose): KeyFile {
  // opening a FIFO would block before the fstat below could refuse it
  refuseSpecialFile(file, 'key file')
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (e) {
    throw new PipelockError('FILE_NOT_FOUND', `open key file ${goQ(file)}: ${goErrnoText(e)}`)
  }
  let data: Buffer
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw invalid(`key file ${goQ(file)} is not a regular file (mode=${goFileMode(st.mode)})`)
    // Read one byte past the cap so a file that grew after fstat is still caught.
    const buf = Buffer.alloc(KEY_FILE_SIZE_CAP + 1)
    let n = 0
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null)
      if (r === 0) break
      n += r
      if (n === buf.length) break
    }
    // A public key (0644 by design) would otherwise be told to chmod 640 before being refused for
    // what it is: say what it is first.
    const head = buf.subarray(0, Math.min(n, 64)).toString('utf8')
    if (keyTextKind(head) === 'public') throw notAKeyFile(file, head, expectedPurpose)
    checkPrivateKeyMode(file, st.mode)
    const size = Math.max(st.size, n)
    if (size > KEY_FILE_SIZE_CAP) throw invalid(`key file exceeds size cap: got ${size} bytes, max ${KEY_FILE_SIZE_CAP}`)
    data = buf.subarray(0, n)
  } finally {
    closeSync(fd)
  }
  return decodeKeyFile(file, data.toString('utf8'), expectedPurpose)
}

function field(obj: Map<string, JsonValue>, name: string, kind: 'string' | 'int'): JsonValue | undefined {
  const v = obj.get(name)
  if (v === undefined) return undefined
  const ok = kind === 'string' ? typeof v === 'string' : v instanceof JsonNumber && /^-?\d+$/.test(v.text)
  if (!ok) throw invalid(`json: cannot unmarshal ${jsonTypeName(v)} into Go struct field keyFile.${name} of type ${kind === 'int' ? 'int' : 'string'}`)
  return v
}

/** A file that is not a JSON key file: what it is (when it is keygen's format) and what was expected. */
function notAKeyFile(file: string, text: string, expectedPurpose: KeyPurpose | undefined, parseError?: string): PipelockError {
  const want = `a JSON deployment key file${expectedPurpose === undefined ? '' : ` with purpose ${expectedPurpose}`} (create one with pipelock signing key generate --purpose ${expectedPurpose ?? 'PURPOSE'} --out FILE)`
  const kind = /^(pipelock-ed25519-(?:private|public)-v1)\b/.exec(text.trimStart())?.[1]
  if (kind !== undefined) return invalid(`key file ${goQ(file)} is a ${kind} key (the format of keygen's agent keys), not ${want}`)
  return invalid(`key file ${goQ(file)} is not ${want}: ${parseError ?? ''}`)
}

function decodeKeyFile(file: string, text: string, expectedPurpose?: KeyPurpose): KeyFile {
  let tree: JsonValue
  try {
    tree = parseJson(text)
  } catch (e) {
    const msg = (e as Error).message
    if (msg.startsWith('trailing tokens')) throw invalid('trailing JSON after key file object')
    // Not JSON at all: say what the file is and what was expected, not the parser's "invalid
    // character 'p'" (issue 34: an agent key given where a deployment key file belongs).
    throw notAKeyFile(file, text, expectedPurpose, msg)
  }
  if (!(tree instanceof Map)) throw invalid(`decode key file: json: cannot unmarshal ${jsonTypeName(tree)} into Go value of type keyFile`)
  for (const k of tree.keys()) {
    if (!(KEY_FILE_FIELDS as readonly string[]).includes(k)) throw invalid(`decode key file: json: unknown field ${goQ(k)}`)
  }
  const sv = field(tree, 'schema_version', 'int') as JsonNumber | undefined
  const schemaVersion = sv === undefined ? '0' : sv.text
  if (schemaVersion !== '1') throw invalid(`unsupported key file schema_version ${schemaVersion} (expected 1)`)
  const purposeText = (field(tree, 'purpose', 'string') as string | undefined) ?? ''
  let purpose: KeyPurpose
  try {
    purpose = checkPurpose(purposeText)
  } catch (e) {
    throw new PipelockError('KEY_PURPOSE_INVALID', `invalid key file purpose: ${(e as Error).message}`)
  }
  if (expectedPurpose !== undefined && purpose !== expectedPurpose) {
    throw new PipelockError('KEY_PURPOSE_INVALID', `key file purpose mismatch: file=${goQ(purpose)} expected=${goQ(expectedPurpose)}`)
  }
  const keyId = (field(tree, 'key_id', 'string') as string | undefined) ?? ''
  const pubHex = (field(tree, 'public', 'string') as string | undefined) ?? ''
  const privHex = (field(tree, 'private', 'string') as string | undefined) ?? ''
  const createdAt = (field(tree, 'created_at', 'string') as string | undefined) ?? ''
  let pub: Buffer
  try {
    pub = decodeGoHex(pubHex)
  } catch (e) {
    throw invalid(`invalid public key hex: ${(e as Error).message}`)
  }
  if (pub.length !== 32) throw invalid(`public key has wrong size: got ${pub.length}, want 32`)
  let priv: Buffer
  try {
    priv = decodeGoHex(privHex)
  } catch (e) {
    throw invalid(`invalid private key hex: ${(e as Error).message}`)
  }
  if (priv.length !== 64) throw invalid(`private key has wrong size: got ${priv.length}, want 64`)
  const keyPair = keyPairFromSeed(priv.subarray(0, 32))
  // Both the embedded public half and the stated public key must be what the seed derives.
  if (!keyPair.publicKey.equals(pub) || !keyPair.publicKey.equals(priv.subarray(32))) {
    throw invalid('private key does not match public key')
  }
  return {
    path: file,
    purpose,
    keyId,
    publicKey: pub,
    publicKeyHex: pub.toString('hex'),
    keyPair,
    createdAt,
    fingerprint: fingerprint(pub),
  }
}

/** The file body: 2-space indented JSON and a newline, fields in the reference order. */
export function encodeKeyFile(purpose: KeyPurpose, keyId: string, kp: Ed25519KeyPair, createdAt: string): string {
  const tree = fromPlain({
    schema_version: 1,
    purpose,
    key_id: keyId,
    public: kp.publicKey.toString('hex'),
    private: goPrivateKey(kp).toString('hex'),
    created_at: createdAt,
  })
  return goJsonIndent(tree, '', '  ') + '\n'
}

export interface GenerateKeyFileOptions {
  purpose: string
  out: string
  id?: string
  force?: boolean
  clock: Clock
  /** Tests inject a fixed key; commands leave it unset. */
  keyPair?: Ed25519KeyPair
}

export interface GeneratedKeyFile {
  purpose: KeyPurpose
  keyId: string
  fingerprint: string
  publicKeyHex: string
  out: string
  createdAt: string
}

const KEY_ID_OK = /^[A-Za-z0-9._-]{1,64}$/

/**
 * `--id`: the rule of keystore agent names (the key id a roster lists is a keystore name for
 * keygen keys): 1–64 of [A-Za-z0-9._-], not `.`, no `..`. An id is copied into rosters, receipts
 * and file names, so path separators and control characters have no place in it; an empty one
 * is refused rather than silently replaced by the default.
 */
export function checkKeyId(id: string): void {
  if (id === '') {
    throw new PipelockError('USAGE', '--id must not be empty', {hint: 'leave --id out for the default <purpose>-<first 8 hex of the fingerprint>'})
  }
  if (!KEY_ID_OK.test(id) || id === '.' || id.includes('..')) {
    const length = Array.from(id).length
    const why =
      length > 64 ? `is ${length} characters long (at most 64)`
      : id === '.' ? 'is "."'
      : id.includes('..') ? 'contains ".." (a path traversal sequence)'
      : 'contains characters other than A-Z a-z 0-9 . _ -'
    throw new PipelockError('USAGE', `--id ${goQ(id)} is not a valid key id: it ${why}`, {hint: 'a key id is 1 to 64 of A-Z a-z 0-9 . _ - (not "." and without "..")'})
  }
}

/** `pipelock signing key generate`: purpose, `--id`, then `--out` absolute, then not existing. */
export function generateKeyFile(o: GenerateKeyFileOptions): GeneratedKeyFile {
  const purpose = checkPurpose(o.purpose)
  if (o.id !== undefined) checkKeyId(o.id)
  if (!path.isAbsolute(o.out)) throw new PipelockError('PATH_NOT_ABSOLUTE', `--out must be absolute, got ${goQ(o.out)}`)
  if (!o.force && exists(o.out)) {
    throw new PipelockError('FILE_EXISTS', `output file ${goQ(o.out)} already exists (use --force to overwrite)`)
  }
  const kp = o.keyPair ?? generateKeyPair()
  const fp = fingerprint(kp.publicKey)
  const keyId = o.id ?? `${purpose}-${fp.slice('sha256:'.length, 'sha256:'.length + 8)}`
  const createdAt = formatUtcSeconds(o.clock.nowNanos())
  try {
    writeFileAtomic(o.out, encodeKeyFile(purpose, keyId, kp, createdAt), 0o600)
  } catch (e) {
    throw new PipelockError('WRITE_FAILED', `writing key file ${goQ(o.out)}: ${goErrnoText(e)}`)
  }
  return {purpose, keyId, fingerprint: fp, publicKeyHex: kp.publicKey.toString('hex'), out: o.out, createdAt}
}

export function exists(p: string): boolean {
  try {
    lstatSync(p)
    return true
  } catch {
    return false
  }
}
