/**
 * `mcp_binary_integrity` (mcp.md §12): the manifest of pinned SHA-256 hashes of MCP server
 * binaries and scripts, resolving a command the way the wrap will run it, verifying it, and the
 * detached Ed25519 signature over the manifest's exact bytes. Used by the stdio wrap before it
 * spawns (§12.3) and by `pipelock mcp integrity manifest …` (§12.4).
 */
import {createHash} from 'node:crypto'
import {accessSync, constants, existsSync, openSync, readFileSync, readSync, closeSync, realpathSync, statSync} from 'node:fs'
import path from 'node:path'
import {goJsonIndent, fromPlain} from '../canonical/index.js'
import {jsonParseReason, osErrorReason, PipelockError} from '../errors/index.js'
import {agentPublicKeyPath, loadAgentPublicKey, refuseSpecialFile, signBytes, validateAgentName, verifyBytes, writeFileAtomic, decodePublicKeyText, type Ed25519KeyPair} from '../signing/index.js'

export interface IntegrityManifest {
  readonly version: 1
  /** Absolute, symlink-resolved path → 64 lower-case hex SHA-256. */
  readonly entries: Record<string, string>
}

export class IntegrityError extends Error {}

const INTERPRETERS = new Set(['python', 'python3', 'node', 'bun', 'deno', 'ruby', 'perl', 'bash', 'sh', 'dash'])
const INTERPRETER_PREFIXES = ['python', 'python3', 'node', 'ruby', 'perl', 'bash', 'sh', 'bun', 'deno']

/** §12.2 step 2: `python3.11`, `node20` count; package runners (`npx`, `uvx` …) never do. */
export function isInterpreter(base: string): boolean {
  if (INTERPRETERS.has(base)) return true
  return INTERPRETER_PREFIXES.some((p) => base.startsWith(p) && /^[.\d]/.test(base.slice(p.length)))
}

function hashFile(p: string): string {
  refuseSpecialFile(p, 'command file')
  return createHash('sha256').update(readFileSync(p)).digest('hex')
}

function lookPath(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue
    const p = path.join(dir, name)
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK)
        return p
      }
    } catch {
      // not here
    }
  }
  throw new Error(`exec: "${name}": executable file not found in $PATH`)
}

function resolveBinary(word: string, what: string): string {
  try {
    const abs = word.includes('/') ? path.resolve(word) : lookPath(word)
    return realpathSync(abs)
  } catch (e) {
    throw new IntegrityError(`${what} "${word}": ${(e as Error).message}`)
  }
}

/** Skips `env` flags (§12.2 step 3): the index of the first operand, or -1. */
function envOperand(args: readonly string[], from: number): number {
  let i = from
  while (i < args.length) {
    const a = args[i]!
    if (a === '--' || a === '-S') return i + 1 < args.length ? i + 1 : -1
    if (a === '-u') {
      i += 2
      continue
    }
    if (a === '-i' || a === '-0' || (a.startsWith('-') && a.length > 1)) {
      i++
      continue
    }
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
      i++
      continue
    }
    return i
  }
  return -1
}

export interface ResolvedCommand {
  /** The binary actually executed (the interpreter for a script). */
  readonly binary: string
  readonly binaryHash: string
  readonly script?: string
  readonly scriptHash?: string
  /** The resolved binary lies inside the work directory (reported, never enforced: Q48). */
  readonly suspicious: boolean
}

function shebang(p: string): string[] | undefined {
  const buf = Buffer.alloc(256)
  refuseSpecialFile(p, 'command file')
  const fd = openSync(p, 'r')
  let n: number
  try {
    n = readSync(fd, buf, 0, 256, 0)
  } finally {
    closeSync(fd)
  }
  const head = buf.subarray(0, n).toString('latin1')
  if (!head.startsWith('#!')) return undefined
  const line = head.slice(2).split('\n')[0]!.trim()
  const words = line.split(/\s+/).filter((w) => w !== '')
  return words.length === 0 ? undefined : words
}

function hashing(p: string, what: string): string {
  try {
    return hashFile(p)
  } catch (e) {
    throw new IntegrityError(`${what} "${p}": ${(e as Error).message}`)
  }
}

/** §12.2 `Resolve(argv, workDir)`. */
export function resolveCommand(argv: readonly string[], workDir?: string): ResolvedCommand {
  if (argv.length === 0) throw new IntegrityError('resolving binary "": empty command')
  let binary = resolveBinary(argv[0]!, 'resolving binary')
  let scriptWord: string | undefined
  let scriptFromShebang: string | undefined
  const base = path.basename(binary)
  if (base === 'env' && argv.length > 1) {
    const at = envOperand(argv, 1)
    if (at >= 0) {
      binary = resolveBinary(argv[at]!, 'resolving env interpreter')
      scriptWord = argv[at + 1]
    }
  } else if (isInterpreter(base) || isInterpreter(path.basename(argv[0]!))) {
    scriptWord = argv[1]
  } else {
    const sb = shebang(binary)
    if (sb !== undefined) {
      scriptFromShebang = binary
      let words = sb
      if (path.basename(words[0]!) === 'env') {
        const at = envOperand(words, 1)
        words = at >= 0 ? words.slice(at) : []
      }
      if (words.length > 0) binary = resolveBinary(words[0]!, 'resolving shebang interpreter')
    }
  }
  const binaryHash = hashing(binary, 'hashing binary')
  let script: string | undefined
  if (scriptFromShebang !== undefined) script = scriptFromShebang
  else if (scriptWord !== undefined) {
    const abs = path.isAbsolute(scriptWord) ? scriptWord : path.resolve(workDir ?? process.cwd(), scriptWord)
    try {
      script = realpathSync(abs)
    } catch (e) {
      throw new IntegrityError(`hashing script "${abs}": ${(e as Error).message}`)
    }
  }
  const scriptHash = script === undefined ? undefined : hashing(script, 'hashing script')
  const wd = workDir === undefined ? undefined : path.resolve(workDir)
  const suspicious = wd !== undefined && (binary === wd || binary.startsWith(wd + path.sep))
  return {binary, binaryHash, ...(script !== undefined ? {script, scriptHash: scriptHash!} : {}), suspicious}
}

/** §12.2 `Verify`: every reason, accumulated. */
export function verifyCommand(m: IntegrityManifest, r: ResolvedCommand): string[] {
  const reasons: string[] = []
  const want = m.entries[r.binary]
  if (want === undefined) reasons.push(`binary ${r.binary} not found in manifest`)
  else if (want !== r.binaryHash) reasons.push(`binary hash mismatch for ${r.binary}: expected ${want}, got ${r.binaryHash}`)
  if (r.script !== undefined) {
    const ws = m.entries[r.script]
    if (ws === undefined) reasons.push(`script ${r.script} not found in manifest`)
    else if (ws !== r.scriptHash) reasons.push(`script hash mismatch for ${r.script}: expected ${ws}, got ${r.scriptHash}`)
  }
  return reasons
}

/** §12.1 load from bytes (the runtime reads the file once for signature and parse). */
export function parseManifest(bytes: Buffer): IntegrityManifest {
  let v: unknown
  try {
    v = JSON.parse(bytes.toString('utf8'))
  } catch (e) {
    throw new IntegrityError(`parsing manifest: ${jsonParseReason(e)}`)
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new IntegrityError('parsing manifest: not a JSON object')
  const o = v as Record<string, unknown>
  if (o.version !== 1) throw new IntegrityError(`unsupported manifest version ${JSON.stringify(o.version ?? 0)} (expected 1)`)
  const entries = o.entries
  if (entries === undefined || entries === null) throw new IntegrityError("parsing manifest: missing or null 'entries' field")
  if (typeof entries !== 'object' || Array.isArray(entries)) throw new IntegrityError('parsing manifest: entries must be an object')
  for (const [k, h] of Object.entries(entries as Record<string, unknown>)) {
    if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) throw new IntegrityError(`parsing manifest: entry ${JSON.stringify(k)}: hash must be 64 lower-case hex digits`)
  }
  return {version: 1, entries: {...(entries as Record<string, string>)}}
}

export function readManifestBytes(file: string): Buffer {
  refuseSpecialFile(file, 'manifest')
  try {
    return readFileSync(file)
  } catch (e) {
    // A manifest that is not there is a missing input (FILE_NOT_FOUND), said in words, not Node's
    // `ENOENT: no such file or directory, open '…'`; mcp proxy still refuses to start on it.
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new PipelockError('FILE_NOT_FOUND', `reading manifest ${file}: ${osErrorReason(e)}`, {hint: 'write one with: pipelock mcp integrity manifest generate --output FILE -- COMMAND'})
    if (code !== undefined) throw new PipelockError('FILE_UNREADABLE', `reading manifest ${file}: ${osErrorReason(e)}`)
    throw new IntegrityError(`reading manifest: ${(e as Error).message}`)
  }
}

/** §12.1: 2-space JSON, keys sorted, trailing newline, mode 0600, atomic. */
export function writeManifest(file: string, m: IntegrityManifest): void {
  const sorted = Object.fromEntries(Object.keys(m.entries).sort().map((k) => [k, m.entries[k]!]))
  writeFileAtomic(file, goJsonIndent(fromPlain({version: 1, entries: sorted}), '', '  ') + '\n', 0o600)
}

export function manifestExists(file: string): boolean {
  return existsSync(file)
}

/** §12.4 `sign`: Ed25519 over the exact file bytes, base64 + newline, mode 0644, atomic. */
export function signManifest(manifestFile: string, sigFile: string, key: Ed25519KeyPair): void {
  const bytes = readManifestBytes(manifestFile)
  writeFileAtomic(sigFile, signBytes(key, bytes).toString('base64') + '\n', 0o644)
}

/** §12.3 step 1: `agents/<n>/id_ed25519.pub`, else `trusted_keys/<n>.pub`. */
export function trustedSignerKey(keystore: string, signer: string): Buffer {
  if (signer === '') throw new IntegrityError('trusted signer is required')
  try {
    validateAgentName(signer)
  } catch (e) {
    throw new IntegrityError(`invalid trusted signer "${signer}": ${(e as Error).message}`)
  }
  try {
    return loadAgentPublicKey(keystore, signer)
  } catch {
    try {
      return decodePublicKeyText(readFileSync(path.join(keystore, 'trusted_keys', `${signer}.pub`), 'utf8'))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new IntegrityError(`loading trusted signer "${signer}": no public key at ${agentPublicKeyPath(keystore, signer)} nor ${path.join(keystore, 'trusted_keys', `${signer}.pub`)} (pipelock keygen ${signer}, or pipelock trust ${signer} <key file>)`)
      }
      throw new IntegrityError(`loading trusted signer "${signer}": ${(e as Error).message}`)
    }
  }
}

/** §12.4 `verify-signature` over bytes already read; throws with the reason. */
export function verifyManifestSignature(bytes: Buffer, sigFile: string, publicKey: Buffer): void {
  refuseSpecialFile(sigFile, 'signature')
  let text: string
  try {
    text = readFileSync(sigFile, 'utf8').trim()
  } catch (e) {
    throw new IntegrityError(`reading signature: ${(e as Error).message}`)
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new IntegrityError('decoding signature: illegal base64 data')
  const sig = Buffer.from(text, 'base64')
  if (sig.length !== 64) throw new IntegrityError(`invalid signature length: got ${sig.length}, want 64`)
  if (!verifyBytes(publicKey, bytes, sig)) throw new IntegrityError('signature verification failed')
}
