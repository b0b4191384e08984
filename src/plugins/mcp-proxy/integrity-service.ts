/**
 * `pipelock mcp integrity manifest generate|verify|sign|verify-signature` (mcp.md §12.4): each
 * returns the report object `--json` prints and the text lines; a failed verification is
 * `ok: false` (the command exits 1 after printing it).
 */
import {existsSync} from 'node:fs'
import path from 'node:path'
import {PipelockError} from '../errors/index.js'
import {fingerprint, loadAgentPrivateKey, withFileUpdateLock} from '../signing/index.js'
import {
  IntegrityError, manifestExists, parseManifest, readManifestBytes, resolveCommand, signManifest, trustedSignerKey, verifyCommand, verifyManifestSignature, writeManifest,
  type IntegrityManifest,
} from './integrity.js'

export interface IntegrityReport {
  ok: boolean
  command: string[]
  manifest?: string
  signature?: string
  signer?: string
  workdir?: string
  /** generate: the paths this command wrote. */
  entries?: string[]
  /** generate: how many entries the manifest holds now (with --merge, more than `entries`). */
  total_entries?: number
  reasons: string[]
  binary?: string
  script?: string
  suspicious?: boolean
}

export interface IntegrityResult {
  readonly report: IntegrityReport
  readonly lines: string[]
  /** What to check next, for stderr (never part of the report). */
  readonly hint?: string
}

const fail = (e: unknown): PipelockError => {
  if (e instanceof IntegrityError) return new PipelockError('MCP_INTEGRITY_FAILED', e.message)
  return e as PipelockError
}

export function generateManifest(o: {output: string; merge: boolean; workdir?: string; command: string[]}): IntegrityResult {
  if (o.output === '') throw new PipelockError('USAGE', '--output is required')
  if (o.command.length === 0) throw new PipelockError('USAGE', 'specify the server command after --')
  let r
  try {
    r = resolveCommand(o.command, o.workdir)
  } catch (e) {
    throw fail(e)
  }
  const added: Record<string, string> = {[r.binary]: r.binaryHash, ...(r.script !== undefined ? {[r.script]: r.scriptHash!} : {})}
  // Output files are not given directories here (as `generate config --output`): say which is missing.
  const dir = path.dirname(path.resolve(o.output))
  if (!existsSync(dir)) throw new PipelockError('WRITE_FAILED', `writing ${o.output}: directory ${dir} does not exist; nothing was written`)
  let total = 0
  let updated = 0
  // read, merge and write under the manifest's update lock: concurrent --merge runs all land
  withFileUpdateLock(o.output, () => {
    if (!o.merge && manifestExists(o.output)) throw new PipelockError('FILE_EXISTS', `manifest already exists at ${o.output} (use --merge to update it)`)
    let base: IntegrityManifest = {version: 1, entries: {}}
    if (o.merge && manifestExists(o.output)) {
      try {
        base = parseManifest(readManifestBytes(o.output))
      } catch (e) {
        throw new PipelockError('MCP_INTEGRITY_FAILED', `loading existing manifest: ${(e as Error).message}`)
      }
    }
    const merged = {...base.entries, ...added}
    writeManifest(o.output, {version: 1, entries: merged})
    total = Object.keys(merged).length
    updated = Object.keys(added).filter((k) => k in base.entries).length
  })
  const entries = Object.keys(added).sort()
  const report: IntegrityReport = {ok: true, command: o.command, manifest: o.output, ...(o.workdir ? {workdir: o.workdir} : {}), entries, total_entries: total, reasons: [], binary: r.binary, ...(r.script ? {script: r.script} : {})}
  // The count is the file's (the reference counts only this command's entries, which under
  // --merge is not what the file holds); the listed paths are this command's.
  const count = (n: number): string => `${n} ${n === 1 ? 'entry' : 'entries'}`
  const change = [entries.length - updated > 0 ? `${entries.length - updated} added` : '', updated > 0 ? `${updated} updated` : ''].filter((x) => x !== '').join(', ')
  const head = o.merge ? `${count(total)}: ${change}` : count(total)
  return {report, lines: [`Manifest written: ${o.output} (${head})`, ...entries.map((e) => `  ${e}`)]}
}

export function verifyManifest(o: {manifest: string; workdir?: string; command: string[]}): IntegrityResult {
  if (o.command.length === 0) throw new PipelockError('USAGE', 'specify the server command after --')
  let reasons: string[]
  let r
  try {
    const m = parseManifest(readManifestBytes(o.manifest))
    r = resolveCommand(o.command, o.workdir)
    reasons = verifyCommand(m, r)
  } catch (e) {
    throw fail(e)
  }
  const report: IntegrityReport = {
    ok: reasons.length === 0, command: o.command, manifest: o.manifest, ...(o.workdir ? {workdir: o.workdir} : {}), reasons, binary: r.binary,
    ...(r.script ? {script: r.script} : {}), ...(r.suspicious ? {suspicious: true} : {}),
  }
  const lines = reasons.length === 0 ? [`MCP binary integrity verified: ${o.command.join(' ')}`] : ['MCP binary integrity check failed:', ...reasons.map((x) => `  ${x}`)]
  return {report, lines}
}

function signerName(signer: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const n = signer || env.PIPELOCK_AGENT || ''
  if (n === '') throw new PipelockError('USAGE', 'signer name required: use --signer or set PIPELOCK_AGENT')
  return n
}

export function signIntegrityManifest(o: {manifest: string; sig?: string; signer?: string; keystore: string; env: Readonly<Record<string, string | undefined>>}): IntegrityResult {
  const signer = signerName(o.signer, o.env)
  const sig = o.sig || `${o.manifest}.sig`
  const key = loadAgentPrivateKey(o.keystore, signer)
  try {
    signManifest(o.manifest, sig, key.keyPair)
  } catch (e) {
    throw fail(e)
  }
  return {report: {ok: true, command: [], manifest: o.manifest, signature: sig, signer, reasons: []}, lines: [`MCP integrity manifest signed: ${o.manifest}`, `Signature: ${sig}`]}
}

export function verifyIntegritySignature(o: {manifest: string; sig?: string; signer?: string; keystore: string; env: Readonly<Record<string, string | undefined>>}): IntegrityResult {
  const signer = signerName(o.signer, o.env)
  const sig = o.sig || `${o.manifest}.sig`
  const reasons: string[] = []
  let hint: string | undefined
  try {
    const key = trustedSignerKey(o.keystore, signer)
    try {
      verifyManifestSignature(readManifestBytes(o.manifest), sig, key)
    } catch (e) {
      // The reference's words say only that it failed: name the key it was checked against, the
      // likeliest cause being a --signer (or $PIPELOCK_AGENT) other than the one that signed.
      if (e instanceof IntegrityError && e.message === 'signature verification failed') {
        hint = `the signature does not verify under the key of signer "${signer}" (${fingerprint(key)}): the manifest was signed with another key (check --signer or $PIPELOCK_AGENT) or changed after signing`
      }
      throw e
    }
  } catch (e) {
    if (!(e instanceof IntegrityError)) throw e
    reasons.push(e.message)
  }
  const report: IntegrityReport = {ok: reasons.length === 0, command: [], manifest: o.manifest, signature: sig, signer, reasons}
  return {report, lines: reasons.length === 0 ? [`MCP integrity manifest signature verified: ${o.manifest}`] : [`MCP integrity manifest signature failed: ${reasons.join('; ')}`], ...(hint === undefined ? {} : {hint})}
}
