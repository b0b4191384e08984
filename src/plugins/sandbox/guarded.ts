/**
 * The files pipelock's own protection rests on, kept out of the sandboxed process's reach. The
 * filesystem layer shows the workspace and `allow_write` read-write and `allow_read` read-only; a
 * config file there could be rewritten by the agent (the embedded proxy reloads it: a blocklist
 * entry removed is a request let through) and read (its canary values and tokens), a receipt
 * signing key read (receipts forged under the operator's pinned key), the recorder's directory
 * rewritten (evidence and scoped exceptions). [beyond] containment.md builds the mounts from the
 * workspace and the allow lists alone; starting anyway would contain the agent and hand it the
 * proxy's keys, so the sandbox refuses to start, naming the file and where to move it.
 */
import {realpathSync} from 'node:fs'
import path from 'node:path'
import type {PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import {inside, type FilesystemPolicy} from './policy.js'

export interface GuardedPath {
  /** As the proxy resolves it (absolute). */
  readonly path: string
  /** What it is, for the message (`flight_recorder.signing_key_path`). */
  readonly what: string
  /** What the agent could do with it: `read` matters for secrets, `write` for everything. */
  readonly ifRead: string | null
  readonly ifWritten: string
}

/**
 * The guarded paths of `c` (and its file): those of the embedded proxy only when it runs here
 * (`embedded`); with `--proxy` the running proxy's own files are its own.
 */
export function guardedPaths(c: PipelockConfig, configFile: string | undefined, cwd: string, embedded: boolean): GuardedPath[] {
  const out: GuardedPath[] = []
  const add = (p: string, what: string, ifWritten: string, ifRead: string | null = null): void => {
    if (p !== '') out.push({path: path.resolve(cwd, p), what, ifRead, ifWritten})
  }
  if (configFile !== undefined) {
    add(configFile, `the config file ${configFile}`, embedded ? 'rewrite the policy it runs under (the proxy reloads the file)' : 'rewrite its canary_tokens', 'read its canary values and tokens')
  }
  add(c.dlp.secrets_file, 'dlp.secrets_file', 'change the secrets DLP looks for', 'read the secrets DLP looks for')
  for (const [name, d] of Object.entries(c.redaction.dictionaries)) {
    if (d.entries_file !== undefined) add(d.entries_file, `redaction.dictionaries.${name}.entries_file`, 'change what is redacted', 'read the values redaction hides')
  }
  if (!embedded) return out
  const fr = c.flight_recorder
  add(fr.signing_key_path, 'flight_recorder.signing_key_path', 'replace the receipt signing key', 'forge receipts under your signing key')
  add(fr.dir, 'flight_recorder.dir', 'rewrite or delete the evidence and the scoped exceptions kept there')
  add(c.mediation_envelope.signing_key_path, 'mediation_envelope.signing_key_path', 'replace the envelope signing key', 'sign envelopes as pipelock')
  add(c.tls_interception.ca_key, 'tls_interception.ca_key', 'replace the interception CA', 'mint certificates your machines trust')
  add(c.tls_interception.ca_cert, 'tls_interception.ca_cert', 'replace the interception CA')
  add(c.emit.syslog.tls.key_file, 'emit.syslog.tls.key_file', 'replace the syslog client key', 'read the syslog client key')
  add(c.kill_switch.sentinel_file, 'kill_switch.sentinel_file', 'turn the kill switch on or off')
  add(c.logging.file, 'logging.file', 'rewrite the audit log')
  add(c.learn.capture_dir, 'learn.capture_dir', 'plant captured traffic that learn compiles into a contract')
  add(c.learn_lock.store_dir, 'learn_lock.store_dir', 'rewrite the contract store')
  add(c.learn_lock.roster_path, 'learn_lock.roster_path', 'replace the key roster')
  return out
}

/** The real path of `p`, through its nearest existing ancestor (a file not written yet still resolves its directories). */
function realDeep(p: string): string {
  const rest: string[] = []
  let cur = p
  for (;;) {
    try {
      return path.join(realpathSync(cur), ...rest.reverse())
    } catch {
      const up = path.dirname(cur)
      if (up === cur) return p
      rest.push(path.basename(cur))
      cur = up
    }
  }
}

/** Refuses to start when a guarded path is where the sandboxed process can write it, or read a secret one. */
export function refuseExposedPaths(policy: FilesystemPolicy, guarded: readonly GuardedPath[]): void {
  const writable: Array<[string, string]> = [[policy.workspace, 'the workspace'], ...policy.allowWrite.map((p): [string, string] => [p, 'sandbox.filesystem.allow_write'])]
  const readable: Array<[string, string]> = policy.allowRead.map((p): [string, string] => [p, 'sandbox.filesystem.allow_read'])
  for (const g of guarded) {
    const real = realDeep(g.path)
    const w = writable.find(([root]) => inside(real, root))
    const r = g.ifRead === null ? undefined : (w ?? readable.find(([root]) => inside(real, root)))
    if (w === undefined && r === undefined) continue
    const [root, label] = (w ?? r)!
    const could = w !== undefined ? [g.ifWritten, ...(g.ifRead === null ? [] : [g.ifRead])].join(' and ') : g.ifRead!
    throw new PipelockError('SANDBOX_POLICY', `${g.what} (${real}) is inside ${label} ${root}, which the sandboxed process can ${w !== undefined ? 'write' : 'read'}: it could ${could}`, {
      hint: 'keep it outside the workspace and sandbox.filesystem.allow_read/allow_write (for example under ~/.config/pipelock, which the sandbox never shows)',
    })
  }
}
