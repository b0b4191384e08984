/**
 * Warnings about a config that start-up prints and `pipelock check` prints the same: a config that
 * loads and runs, but not as its operator may expect. One function each, so that `check`, `run`
 * and `mcp proxy` cannot drift apart on what they warn about (`pipelock check` once warned about
 * an engaged kill switch that `pipelock run` started under without a word, and `run` about a weak
 * admin token that `check` passed in silence).
 */
import type {PipelockConfig} from '../config/index.js'
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
 * An admin API token shorter than `STRONG_TOKEN_MIN` keeps the strict failed-token lockout, which
 * also locks out the operator sharing a guesser's address (auth-throttle.ts). `env` wins over the
 * config, as the admin APIs read the token.
 */
export function weakApiTokenWarning(c: PipelockConfig, env: Readonly<Record<string, string | undefined>>): string | null {
  const token = env.PIPELOCK_KILLSWITCH_API_TOKEN || c.kill_switch.api_token
  if (token === '' || token.length >= STRONG_TOKEN_MIN) return null
  return `WARNING: the admin API token is shorter than ${STRONG_TOKEN_MIN} characters: ten wrong guesses from an address lock that address out, the operator's right token included; a longer token (openssl rand -hex 16) always passes`
}
