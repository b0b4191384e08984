/**
 * The one verdict "would `pipelock run` start with this config?" (issue 38): `pipelock run`
 * calls it before opening anything and on every reload, `pipelock check` calls it to fill its
 * Refused line and exit status. A refusal added anywhere else (a subsystem that throws while it
 * opens) would let the two disagree, so every start-up refusal that depends on the config alone
 * belongs here.
 */
import {assertImplemented, mergeProfile, type PipelockConfig} from '../config/index.js'
import {PipelockError, prefixedError} from '../errors/index.js'
import {assertAddressAllowlist} from './address-config.js'
import {assertAskChannel, type RunPhase} from './features.js'
import {RUN_ACCEPTED_FEATURES} from './inert-features.js'

/**
 * Throws the run's refusal (a PipelockError) for the base config or any merged agent profile;
 * returns the warnings both commands print (address allowlist entries that fail their checksum).
 * `phase` words the refusal: a reload's keeps the running config, it does not refuse to start.
 */
export function assertRunnable(c: PipelockConfig, env: Readonly<Record<string, string | undefined>> = {}, phase: RunPhase = 'start'): string[] {
  assertOne(c, env, phase)
  const warnings = assertAddressAllowlist(c)
  for (const name of Object.keys(c.agents).sort()) {
    try {
      assertOne(mergeProfile(c, c.agents[name]!), env, phase)
    } catch (err) {
      if (err instanceof PipelockError) throw prefixedError(err, `agent "${name}": `, err.code)
      throw err
    }
  }
  return warnings
}

function assertOne(c: PipelockConfig, env: Readonly<Record<string, string | undefined>>, phase: RunPhase): void {
  assertImplemented(c, RUN_ACCEPTED_FEATURES, phase)
  // `action: ask` needs an operator channel (the admin API); refused like an unimplemented section.
  assertAskChannel(c, env, phase)
}
