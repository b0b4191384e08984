/**
 * `address_protection.allowed_addresses` (scanners-extra §4.2, quirk *fixed*): the reference
 * silently drops an entry no enabled chain accepts, so a typo leaves a destination unprotected.
 * Here it refuses the config, in `pipelock check` and `pipelock run` alike (the address codecs
 * live in the scanner, which the config plugin cannot import).
 */
import {mergeProfile, type PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import {parseAllowedAddress, type Chain} from '../scanner/index.js'

function check(c: PipelockConfig, where: string): void {
  const a = c.address_protection
  if (!a.enabled) return
  const chains = new Set((['eth', 'btc', 'sol', 'bnb'] as const).filter((k) => a.chains[k]) as Chain[])
  a.allowed_addresses.forEach((v, i) => {
    const h = parseAllowedAddress(v, chains)
    const at = `invalid config: ${where}address_protection.allowed_addresses[${i}]`
    if (h === null) throw new PipelockError('CONFIG_INVALID', `${at} "${v}" is not a valid address for any enabled chain`)
    if (!h.checksumValid) throw new PipelockError('CONFIG_INVALID', `${at} "${v}" fails its EIP-55 checksum (write it all lower-case, or with the correct checksum)`)
  })
}

/** Throws CONFIG_INVALID naming the first allowlist entry no enabled chain accepts (base config, then each agent's merged view). */
export function assertAddressAllowlist(c: PipelockConfig): void {
  check(c, '')
  for (const name of Object.keys(c.agents).sort()) check(mergeProfile(c, c.agents[name]!), `agent "${name}": `)
}
