import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {formatUtcSeconds, goJsonIndent, type Clock, type JsonObject, type JsonValue} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {formatSignature, signBytes} from './ed25519.js'
import {writeFileAtomic} from './atomic-write.js'
import {goErrnoText, goQ} from './go-fmt.js'
import {checkPurpose, exists, loadKeyFile, type KeyFile} from './key-file.js'
import {decodePublicKeyText} from './key-text.js'
import {dataClassRootProblem, DATA_CLASSES, rosterBodyProblem, rosterBodyTree, rosterSigningBytes, type KeyInfo, type KeyRoster} from './roster.js'
import {fingerprint} from './fingerprint.js'

// `pipelock signing roster build` (learn-lifecycle.md §8.6). Every refusal of the table, in the
// table's order; the first one that applies wins.

export interface BuildRosterOptions {
  rootKeyPath: string
  includes: readonly string[]
  dataClass?: string
  schemaVersion?: number
  out: string
  force?: boolean
  clock: Clock
}

export interface BuildRosterResult {
  out: string
  keys: number
  rootSignedBy: string
  rootFingerprint: string
  dataClassRoot: string
  body: KeyRoster
  signature: string
}

export interface IncludeSpec {
  id: string
  key: string
  purpose: string
  status: string
  role: string
}

const INCLUDE_KEYS = ['id', 'key', 'purpose', 'status', 'role'] as const

function refuse(message: string): PipelockError {
  return new PipelockError('ROSTER_BUILD_REFUSED', message)
}

/** Parses one `--include` value: comma-separated key=value items, trimmed, empty items ignored. */
export function parseIncludeSpec(raw: string, index: number): IncludeSpec {
  const where = `--include[${index}] ${goQ(raw)}`
  const seen = new Map<string, string>()
  for (const part of raw.split(',')) {
    const item = part.trim()
    if (item === '') continue
    const eq = item.indexOf('=')
    if (eq < 0) throw refuse(`${where}: expected key=value, got ${goQ(item)}`)
    const k = item.slice(0, eq).trim()
    const v = item.slice(eq + 1).trim()
    if (seen.has(k)) throw refuse(`${where}: duplicate key ${goQ(k)}`)
    if (!(INCLUDE_KEYS as readonly string[]).includes(k)) {
      throw refuse(`${where}: unknown key ${goQ(k)} (allowed: id, key, purpose, status, role)`)
    }
    seen.set(k, v)
  }
  for (const required of ['id', 'key', 'purpose']) {
    if ((seen.get(required) ?? '') === '') throw refuse(`${where}: missing required field ${required}`)
  }
  return {
    id: seen.get('id') as string,
    key: seen.get('key') as string,
    purpose: seen.get('purpose') as string,
    status: seen.get('status') ?? '',
    role: seen.get('role') ?? '',
  }
}

/** Reads an include's public key: an agent `.pub` file or a fully checked JSON key file. */
function includeKey(spec: IncludeSpec): {pub: Buffer; file?: KeyFile} {
  const at = `--include id=${goQ(spec.id)}`
  try {
    if (!statSync(spec.key).isFile()) throw new Error('not a regular file')
  } catch (e) {
    throw refuse(`${at}: read public key ${goQ(spec.key)}: ${goErrnoText(e)}`)
  }
  if (path.extname(spec.key).toLowerCase() === '.pub') {
    let text: string
    try {
      text = readFileSync(spec.key, 'utf8')
    } catch (e) {
      throw refuse(`${at}: read public key ${goQ(spec.key)}: ${goErrnoText(e)}`)
    }
    try {
      return {pub: decodePublicKeyText(text)}
    } catch (e) {
      throw refuse(`${at}: decode agent keystore .pub file ${goQ(spec.key)}: ${(e as Error).message}`)
    }
  }
  try {
    const file = loadKeyFile(spec.key)
    return {pub: file.publicKey, file}
  } catch (e) {
    throw refuse(`${at}: decode key file ${goQ(spec.key)}: ${(e as Error).message}`)
  }
}

/** Validates everything, assembles and signs the roster, writes it 0600 atomically. */
export function buildRoster(o: BuildRosterOptions): BuildRosterResult {
  const dataClass = o.dataClass ?? 'internal'
  const schemaVersion = o.schemaVersion ?? 1
  // 1, 2
  if (!path.isAbsolute(o.out)) throw new PipelockError('PATH_NOT_ABSOLUTE', `--out must be absolute, got ${goQ(o.out)}`)
  if (!o.force && exists(o.out)) {
    throw new PipelockError('FILE_EXISTS', `output file ${goQ(o.out)} already exists (use --force to overwrite)`)
  }
  // 3, 4, 5
  if (schemaVersion !== 1) throw refuse(`--schema-version ${schemaVersion} unsupported (expected 1)`)
  if (!(DATA_CLASSES as readonly string[]).includes(dataClass)) throw refuse(`invalid data_class: ${goQ(dataClass)}`)
  if (dataClass === 'regulated') throw refuse('--data-class regulated is forbidden in signed artifacts')
  // 6
  let root: KeyFile
  try {
    root = loadKeyFile(o.rootKeyPath, 'roster-root')
  } catch (e) {
    throw refuse(`load root key: ${(e as Error).message}`)
  }
  // 7, 8
  if (o.includes.length === 0) throw refuse('at least one --include is required')
  const specs = o.includes.map((raw, i) => parseIncludeSpec(raw, i))
  const now = formatUtcSeconds(o.clock.nowNanos())
  const keys: KeyInfo[] = [
    {
      keyId: root.keyId,
      keyPurpose: 'roster-root',
      publicKeyHex: root.publicKeyHex,
      validFrom: now,
      validUntil: null,
      status: 'root',
      principal: 'root',
    },
  ]
  const ids = new Set<string>([root.keyId])
  for (const spec of specs) {
    const at = `--include id=${goQ(spec.id)}`
    // 9
    if (ids.has(spec.id)) throw refuse(`duplicate --include id ${goQ(spec.id)} (root takes id ${goQ(root.keyId)})`)
    ids.add(spec.id)
    // 10, 11
    try {
      checkPurpose(spec.purpose)
    } catch (e) {
      throw refuse(`${at}: ${(e as Error).message}`)
    }
    if (spec.purpose === 'roster-root') {
      throw refuse(`${at}: roster-root entries are auto-included from --root and must not be passed as --include`)
    }
    // 12, 13
    const {pub, file} = includeKey(spec)
    if (file !== undefined && file.purpose !== spec.purpose) {
      throw refuse(`${at}: purpose flag ${goQ(spec.purpose)} disagrees with key file purpose ${goQ(file.purpose)}`)
    }
    // 14, 15
    const status = spec.status === '' ? 'active' : spec.status
    if (status === 'root') throw refuse(`${at}: status=root is reserved for the auto-included root entry`)
    if (status !== 'active' && status !== 'revoked') throw refuse(`${at}: unknown status ${goQ(status)} (allowed: active, revoked)`)
    keys.push({
      keyId: spec.id,
      keyPurpose: spec.purpose,
      publicKeyHex: pub.toString('hex'),
      validFrom: now,
      validUntil: null,
      status,
      principal: spec.role,
    })
  }
  const body: KeyRoster = {schemaVersion, rosterSignedBy: root.keyId, keys, dataClassRoot: dataClass}
  // 16
  const problem = rosterBodyProblem(body) ?? dataClassRootProblem(dataClass)
  if (problem !== undefined) throw refuse(`roster body validation: ${problem}`)
  const signature = formatSignature(signBytes(root.keyPair, rosterSigningBytes(body)))
  const envelope: JsonObject = new Map<string, JsonValue>([
    ['body', rosterBodyTree(body)],
    ['signature', signature],
  ])
  try {
    writeFileAtomic(o.out, goJsonIndent(envelope, '', '  ') + '\n', 0o600)
  } catch (e) {
    throw new PipelockError('WRITE_FAILED', `writing roster ${goQ(o.out)}: ${goErrnoText(e)}`)
  }
  return {
    out: o.out,
    keys: keys.length,
    rootSignedBy: root.keyId,
    rootFingerprint: fingerprint(root.publicKey),
    dataClassRoot: dataClass,
    body,
    signature,
  }
}

