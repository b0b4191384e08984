/**
 * Warnings about a config that start-up prints and `pipelock check` prints the same: a config that
 * loads and runs, but not as its operator may expect. One function each, so that `check`, `run`
 * and `mcp proxy` cannot drift apart on what they warn about (`pipelock check` once warned about
 * an engaged kill switch that `pipelock run` started under without a word, and `run` about a weak
 * admin token that `check` passed in silence).
 */
import {statSync} from 'node:fs'
import {clearSecretFields, describeLoopbackEntries, loopbackSourceCidrs, type LoadedConfig, type PipelockConfig} from '../config/index.js'
import {shellWord} from '../errors/index.js'
import {STRONG_TOKEN_MIN} from './auth-throttle.js'

/**
 * `kill_switch.enabled: true`: every request (or tool call: `what`) is refused from the first one.
 * An armed switch (a token, a sentinel path) is no warning: it refuses nothing until engaged.
 */
export function killSwitchOnWarning(c: PipelockConfig, what = 'pipelock run will refuse every request from the start (except the exempt paths and kill_switch.allowlist_ips clients)'): string | null {
  if (!c.kill_switch.enabled) return null
  return `WARNING: kill_switch.enabled: the kill switch is ON in this config: ${what}; set enabled: false to let traffic through (api_token or sentinel_file arm it without turning it on)`
}

/**
 * A `source_cidrs` entry holding 127.0.0.1 or ::1 binds every client that reaches the proxy over
 * loopback to one profile: each agent on this host, and each sandbox bridged here with `--proxy`.
 * Not refused (one local agent per host is a real deployment), but said, since a second local
 * agent silently runs under the first one's profile. (The sandbox's embedded proxy applies no
 * `source_cidrs` at all, and says so at launch.)
 */
export function loopbackBindingWarning(c: Pick<PipelockConfig, 'agents'>): string | null {
  const hits = loopbackSourceCidrs(c)
  if (hits.length === 0) return null
  return `WARNING: ${describeLoopbackEntries(hits)} ${hits.length === 1 ? 'holds' : 'hold'} 127.0.0.1 or ::1, the address every local client connects from: each agent on this host that reaches the proxy over loopback (and each pipelock sandbox --proxy bridged to it) is bound to the entry's profile, so they cannot be told apart; give each local agent its own agents.<name>.listeners port instead`
}

/**
 * An admin API token shorter than `STRONG_TOKEN_MIN` keeps the strict failed-token lockout, which
 * also locks out the operator sharing a guesser's address (auth-throttle.ts). `env` wins over the
 * config, as the admin APIs read the token.
 */
export function weakApiTokenWarning(c: PipelockConfig, env: Readonly<Record<string, string | undefined>>): string | null {
  const token = env.PIPELOCK_KILLSWITCH_API_TOKEN || c.kill_switch.api_token
  if (token === '' || token.length >= STRONG_TOKEN_MIN) return null
  return `WARNING: the admin API token is shorter than ${STRONG_TOKEN_MIN} characters: ten wrong guesses from an address lock that address out, the operator's right token included; a longer token (openssl rand -hex 16) always passes`
}

/**
 * The config file's own mode: one that group or others can write lets them set the policy (a
 * reload applies an edit); one they can read gives away the credentials it holds in clear (the
 * session commands refuse to take the admin token from such a file, admin-client). Nothing for
 * the built-in defaults, a file that cannot be stat'ed, or one that is not a regular file (a
 * pipe, `/dev/stdin`): its mode says nothing about who can read the text.
 */
export function configFileModeWarnings(loaded: Pick<LoadedConfig, 'path' | 'document'>): string[] {
  if (loaded.path === undefined) return []
  let mode: number
  try {
    const st = statSync(loaded.path)
    if (!st.isFile()) return []
    mode = st.mode & 0o777
  } catch {
    return []
  }
  const file = loaded.path
  const octal = mode.toString(8).padStart(4, '0')
  const lines: string[] = []
  if ((mode & 0o022) !== 0) {
    lines.push(`WARNING: config file ${file} is writable by group or others (mode ${octal}): whoever can write it sets this proxy's policy (a reload applies an edit); chmod go-w ${shellWord(file)}`)
  }
  const secrets = (mode & 0o044) !== 0 ? clearSecretFields(loaded.document) : []
  if (secrets.length > 0) {
    const token = secrets.includes('kill_switch.api_token') ? ', or move the admin token to PIPELOCK_KILLSWITCH_API_TOKEN (session commands refuse to read it from this file)' : ''
    lines.push(`WARNING: config file ${file} holds ${secrets.join(', ')} in clear and is readable by group or others (mode ${octal}): chmod 600 ${shellWord(file)}${token}`)
  }
  return lines
}
