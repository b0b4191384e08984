import {Flags} from '@oclif/core'
import type {IntegrityResult} from '../plugins/mcp-proxy/index.js'

/** Prints an integrity report (mcp.md §12.4): text lines, or the report as 2-space JSON; exit 1 when not ok. */
export function printIntegrity(r: IntegrityResult, json: boolean, out: (s: string) => void): void {
  if (json) out(JSON.stringify(r.report, null, 2))
  else for (const l of r.lines) out(l)
  // a hint on stderr in both modes: stdout keeps the reference's lines and report
  if (r.hint !== undefined) process.stderr.write(`hint: ${r.hint}\n`)
  if (!r.report.ok) process.exitCode = 1
}

/** The flags `sign` and `verify-signature` share (mcp.md §12.4). */
export const signatureFlags = {
  manifest: Flags.string({description: 'manifest file', required: true}),
  sig: Flags.string({description: 'signature file (default <manifest>.sig)'}),
  signer: Flags.string({description: 'keystore agent name (default $PIPELOCK_AGENT)'}),
  keystore: Flags.string({description: 'keystore directory (default $PIPELOCK_HOME or ~/.pipelock)'}),
  json: Flags.boolean({description: 'print the report object as JSON', default: false}),
}

export const SIGNATURE_DESCRIPTION = `The signature file (default <manifest>.sig) holds the base64 Ed25519 signature of the
manifest's bytes. The signer is --signer or $PIPELOCK_AGENT: its key is agents/<signer>/id_ed25519 in
the keystore; verification also accepts trusted_keys/<signer>.pub (pipelock trust). With
mcp_binary_integrity.require_signature, mcp proxy refuses to start unless this verifies.`
