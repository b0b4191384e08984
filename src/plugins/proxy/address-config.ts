/**
 * `address_protection.allowed_addresses` (scanners-extra §4.2, quirk *fixed*): the reference
 * silently drops an entry no enabled chain accepts, so a typo leaves a destination unprotected.
 * Here it refuses the config, in `pipelock check` and `pipelock run` alike (the address codecs
 * live in the scanner, which the config plugin cannot import).
 */
import {mergeProfile, type PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import {parseAllowedAddress, type Chain} from '../scanner/index.js'

function check(c: PipelockConfig, where: string, warnings: string[]): void {
  const a = c.address_protection
  if (!a.enabled) return
  const chains = new Set((['eth', 'btc', 'sol', 'bnb'] as const).filter((k) => a.chains[k]) as Chain[])
  a.allowed_addresses.forEach((v, i) => {
    const h = parseAllowedAddress(v, chains)
    const at = `invalid config: ${where}address_protection.allowed_addresses[${i}]`
    if (h === null) throw new PipelockError('CONFIG_INVALID', `${at} "${v}" is not a valid address for any enabled chain`)
    // A warning, not a refusal: the reference never checks EIP-55 and its own documentation's
    // example address fails it; the entry is compared by its lower-case form either way.
    if (!h.checksumValid) warnings.push(`WARNING: ${where}address_protection.allowed_addresses[${i}] "${v}" fails its EIP-55 checksum; it is compared lower-case (check the address, or write it all lower-case)`)
  })
}

/**
 * Throws CONFIG_INVALID naming the first allowlist entry no enabled chain accepts (base config,
 * then each agent's merged view); returns warning lines for ETH entries whose EIP-55 checksum fails.
 */
export function assertAddressAllowlist(c: PipelockConfig): string[] {
  const warnings: string[] = []
  check(c, '', warnings)
  for (const name of Object.keys(c.agents).sort()) check(mergeProfile(c, c.agents[name]!), `agent "${name}": `, warnings)
  return [...new Set(warnings)]
}
