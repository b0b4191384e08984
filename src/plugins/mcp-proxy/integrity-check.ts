/**
 * The runtime binary-integrity check of the stdio wrap (mcp.md §12.3), before the child is
 * spawned: load (and with `require_signature` verify) the manifest from one read of its bytes,
 * resolve the command, verify. `block` (or `require_signature`) refuses to start; `warn` logs.
 */
import {homedir} from 'node:os'
import type {PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import {resolveKeystoreDir} from '../signing/index.js'
import {IntegrityError, parseManifest, readManifestBytes, resolveCommand, trustedSignerKey, verifyCommand, verifyManifestSignature, type IntegrityManifest} from './integrity.js'

export function checkBinaryIntegrity(c: PipelockConfig, argv: readonly string[], env: Readonly<Record<string, string | undefined>>, log: (line: string) => void): void {
  const bi = c.mcp_binary_integrity
  if (!bi.enabled) return
  const block = bi.action === 'block'
  const deny = (msg: string): never => {
    throw new PipelockError('MCP_INTEGRITY_FAILED', msg)
  }
  let manifest: IntegrityManifest
  try {
    const bytes = readManifestBytes(bi.manifest_path)
    if (bi.require_signature) {
      const keystore = resolveKeystoreDir({keystore: bi.keystore, env, userHome: homedir()})
      const key = trustedSignerKey(keystore, bi.trusted_signer)
      verifyManifestSignature(bytes, bi.signature_path !== '' ? bi.signature_path : `${bi.manifest_path}.sig`, key)
    }
    manifest = parseManifest(bytes)
  } catch (e) {
    if (!(e instanceof IntegrityError) && !(e instanceof PipelockError)) throw e
    if (bi.require_signature || block) deny(`binary integrity: loading manifest: ${e.message}`)
    log(`pipelock: binary integrity warning: ${e.message}`)
    return
  }
  let reasons: string[]
  try {
    reasons = verifyCommand(manifest, resolveCommand(argv))
  } catch (e) {
    if (!(e instanceof IntegrityError)) throw e
    if (block) deny(`binary integrity: ${e.message}`)
    log(`pipelock: binary integrity warning: ${e.message}`)
    return
  }
  if (reasons.length === 0) return
  if (block) deny(`binary integrity check failed: ${reasons.join('; ')}`)
  log(`pipelock: binary integrity warning: ${reasons.join('; ')}`)
}
