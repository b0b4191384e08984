// Layer 2: community rule bundles (scanners-extra.md §5) — signed YAML bundles of DLP, injection
// and tool-poison patterns, verified against the embedded keyring and `rules.trusted_keys`,
// installed under `rules_dir`, loaded into the scanners' pattern lists.
export {parseBundle, compareSemver, BundleError, MAX_BUNDLE_BYTES} from './bundle.js'
export type {Bundle, BundleRule} from './bundle.js'
export {EMBEDDED_KEYRING_HEX, embeddedKeys} from './keyring.js'
export {
  activeRules,
  installBundle,
  interruptedNote,
  listBundles,
  removeBundle,
  resolveRulesDir,
  sha256Hex,
  verifyBundles,
  verifyBundleSignature,
} from './store.js'
export type {InstallRequest, InstallResult, ListedBundle, RulesSettings, Signer, TrustedKey, VerifiedBundle} from './store.js'
export {loadRuleBundles} from './load.js'
export type {LoadedBundleInfo, LoadedRules, ToolPoisonRule} from './load.js'
export {rulesContext} from './context.js'
export {compareCalVer, FETCH_TIMEOUT_MS, httpsGet, installRemote, OFFICIAL_REGISTRY, updateBundles} from './remote.js'
export type {Fetcher, RemoteOptions, UpdateOptions, UpdateOutcome} from './remote.js'
