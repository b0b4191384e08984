// The embedded keyring of official rule-bundle signers (scanners-extra.md §5.4): a comma-separated
// list of 64-hex Ed25519 public keys, written into this constant by the release build and never
// read from the runtime environment. Source builds carry no key: every bundle they load is
// verified against `rules.trusted_keys` (tier `third-party`).
export const EMBEDDED_KEYRING_HEX = ''

/** The embedded keys (lower hex), malformed entries skipped. */
export function embeddedKeys(hexList: string = EMBEDDED_KEYRING_HEX): string[] {
  return hexList
    .split(',')
    .map((k) => k.trim().toLowerCase())
    .filter((k) => /^[0-9a-f]{64}$/.test(k))
}
