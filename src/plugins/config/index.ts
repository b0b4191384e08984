// Layer 1: the configuration subsystem (runtime.md §20): schema, strict loading, validation,
// presets, policy hash and hot reload. Everything other subsystems may use is exported here.
export {configSchemas, topLevelKeys, type ConfigSchemas, type PipelockConfig, type DlpPatternConfig, type ResponsePatternConfig} from './schema.js'
export {
  defaultConfig,
  DEFAULT_LISTEN,
  DEFAULT_API_ALLOWLIST,
  DEFAULT_BLOCKLIST,
  DEFAULT_INTERNAL_CIDRS,
  DEFAULT_SENSITIVE_HEADERS,
  DEFAULT_IGNORE_HEADERS,
} from './defaults.js'
export {BUILTIN_TOOL_POLICY_RULES, ENVIRONMENT_DUMP_RULE, type ToolPolicyRuleSpec} from './builtin-tool-policy.js'
export {
  BUILTIN_CHAIN_PATTERNS, CHAIN_CATEGORIES, DEFAULT_DLP_PATTERNS, DEFAULT_RESPONSE_PATTERNS, PRESET_ONLY_RESPONSE_PATTERNS,
  type BuiltinChainPattern, type BuiltinDlpPattern, type BuiltinResponsePattern, type ChainCategory,
} from './builtin-patterns.js'
export {overCapReason, parseSecretsFile, SECRETS_FILE_MAX, type ParsedSecretsFile} from './secrets-file.js'
export {loadConfig, parseConfigText, applyRunOverrides, type LoadedConfig, type LoadOptions, type RunOverrides} from './load.js'
export {loadConfigOnDemand} from './load-on-demand.js'
export {documentSets} from './loaded.js'
export {resolveConfig, type ResolveOptions, type ResolvedConfig} from './resolve.js'
export {validateConfig, type ValidateOptions} from './validate.js'
export {ConfigFieldError, formatWarning, dotted, type ConfigWarning} from './problems.js'
export {ConfigYamlError, MULTI_DOC_MESSAGE, parseConfigYaml} from './yaml-source.js'
export {configFileText} from './file-encoding.js'
export {configHash, canonicalPolicyJson, clearSecretFields, HASH_EXCLUDED_SECTIONS, HASH_EXCLUDED_FIELDS, HASH_MASKED_FIELDS} from './hash.js'
export {EMIT_SEVERITIES, SYSLOG_FACILITIES, parseSyslogAddress, type SyslogAddress} from './emit-config.js'
export {assertImplemented, enabledFeatures, FEATURE_SECTIONS, FEATURE_SECTION_NAMES, type FeatureSection} from './features.js'
export {PRESET_NAMES, PRESET_SUMMARIES, PRESET_VARIANTS, presetConfig, isPresetName, type PresetName} from './presets.js'
export {renderPresetYaml} from './generate.js'
export {SECTION_DOCS} from './section-docs.js'
export {RESTART_ONLY_FIELDS, holdRestartOnly, reloadDowngrades, reloadRejection, type DowngradeScope} from './reload-policy.js'
export {
  ConfigReloader,
  type ConfigReloaderOptions,
  type ConfigReloaderEvents,
  type ReloadApplied,
  type ReloadRejected,
  type ReloadIgnored,
  type ReloadTimers,
  type ReloadTrigger,
} from './reloader.js'
// tls_interception.cert_ttl read once for validation and the interceptor.
export {certTtlMs} from './tls-settings.js'
export {LOG_DIR_MODE} from './log-file.js'
export {checkHostRule, parseCidr, parseHostPort, reachableListen, isCanonicalCidr, isLoopbackHost} from './net-rules.js'
export {configuredListeners, listenersCollide, type ConfiguredListener} from './listeners.js'
export {pipelockHome, defaultConfigCandidates, locateConfigFile, LOCATED_CONFIG_ORDER, SYSTEM_CONFIG_FILE, type LocatedConfig} from './home.js'
export {loadPresetConfig} from './preset-load.js'
export {canonicalListener, DEFAULT_PROFILE, mergeProfile, validateAgents, type AgentProfileConfig} from './agent-profiles.js'
export {changesSha256, diffPolicies, diffPolicyViews, policyView, MAX_CHANGES, type PolicyChange, type PolicyDiff} from './policy-diff.js'
export {describeLoopbackEntries, loopbackSourceCidrs} from './loopback-cidrs.js'
export {canaryEnvEntries, canaryLaunchLines, injectCanaryEnv, type CanaryEnvEntry} from './canary-env.js'
export {scanApiSettings, dnsOverrides, normaliseOverrideHost, type ScanApiSettings} from './extra-sections.js'
export {
  REDACTION_CLASS_NAMES, REDACTION_LIMIT_CAPS, REDACTION_LIMIT_DEFAULTS, dictionaryEntries, hostEntryError, loadEntriesFile, parseMediaTypeStrict,
  RedactionConfigError, validateRedactionSection, type RedactionRouteConfig, type RedactionSectionConfig,
} from './redaction-config.js'
// The mediation_envelope section read into the envelope's settings (check, run and reload alike).
export {envelopeSettings, loadSigningKey} from './envelope-settings.js'
export type {EnvelopeSettings, FailField} from './envelope-settings.js'
export {envelopeReloadWarnings} from './envelope-reload.js'
