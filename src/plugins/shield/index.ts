/**
 * Browser Shield (scanners-extra §3): rewrites HTML, JavaScript and SVG response bodies to remove
 * hidden prompt traps, extension probes, tracking pixels and beacons, and SVG active content.
 * Pure engine: the proxy's response transforms decide where it runs and how it is reported.
 */
export {detectPipeline, type ShieldPipeline} from './pipeline.js'
export {compileTrackingDomains, emptyCounts, rewrite, structuralPass, tokenPasses, type ShieldCounts, type RewriteResult} from './rewrite.js'
export {DEFAULT_MAX_SHIELD_BYTES, shieldSettingsFromConfig, type OversizeAction, type ShieldSettings, type Strictness} from './settings.js'
export {EXTENSION_PROBE_SHIM, FINGERPRINT_SHIM, shimBlock, shimNonce} from './shims.js'
export {shieldBody, type ShieldOutcome} from './shield.js'
