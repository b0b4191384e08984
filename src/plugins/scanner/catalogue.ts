/**
 * The built-in pattern catalogue (runtime spec §9). The default and preset-only patterns are the
 * config defaults (one copy, in the config plugin: they are merged by name and hashed into the
 * policy hash); the immutable core floors below exist only here. A test pins the counts and
 * every entry's compile under RE2.
 */
import {DEFAULT_DLP_PATTERNS as CONFIG_DLP, DEFAULT_RESPONSE_PATTERNS as CONFIG_RESPONSE, PRESET_ONLY_RESPONSE_PATTERNS, PRESET_VARIANTS} from '../config/index.js'
import type {DlpPatternSpec, ResponsePatternSpec} from './pattern-types.js'

/** §9.1 — the 48 default DLP patterns (compiled with a forced `(?i)`). */
export const DEFAULT_DLP_PATTERNS: readonly DlpPatternSpec[] = CONFIG_DLP

/** §9.5 — the 29 default response-scanning patterns (compiled as written). */
export const DEFAULT_RESPONSE_PATTERNS: readonly ResponsePatternSpec[] = CONFIG_RESPONSE

/** §9.5 — preset-only response patterns (shipped presets carry them; not defaults). */
export const PRESET_RESPONSE_PATTERNS: readonly ResponsePatternSpec[] = PRESET_ONLY_RESPONSE_PATTERNS
/** The presets' older regex variants of default patterns, by name (§9.5). */
export const PRESET_RESPONSE_VARIANTS: Readonly<Record<string, string>> = PRESET_VARIANTS

/** §9.1 — preset-only extra DLP pattern (not a default). */
export const ETHEREUM_ADDRESS_PATTERN: DlpPatternSpec = Object.freeze({name: "Ethereum Address", severity: "high", regex: "0x[0-9a-fA-F]{40}\\b"})

/** §9.3 — the 8 immutable core DLP patterns (label `core_dlp`, forced `(?i)`). */
export const CORE_DLP_PATTERNS: readonly DlpPatternSpec[] = Object.freeze([
  {name: "AWS Access ID", severity: "critical", regex: "(AKIA|A3T|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16,}"},
  {name: "AWS Secret Key", severity: "critical", regex: "(?:aws_secret_access_key|AWS_SECRET_ACCESS_KEY|secret.?access.?key|SecretAccessKey)\\s*[\"'=:\\s]{1,5}\\s*[A-Za-z0-9/+=]{40}"},
  {name: "GCP Service Account Key", severity: "critical", regex: "\"type\"\\s*:\\s*\"service_account\""},
  {name: "GitHub Token", severity: "critical", regex: "gh[pousr]_[A-Za-z0-9_]{36,}"},
  {name: "GitHub Fine-Grained PAT", severity: "critical", regex: "github_pat_[a-zA-Z0-9_]{36,}"},
  {name: "GitLab PAT", severity: "critical", regex: "glpat-[a-zA-Z0-9\\-_]{20,}"},
  {name: "Slack Token", severity: "critical", regex: "xox[bpras]-[0-9a-zA-Z-]{15,}"},
  {name: "Private Key Header", severity: "critical", regex: "-----BEGIN\\s+(RSA\\s+|EC\\s+|DSA\\s+|OPENSSH\\s+)?PRIVATE\\s+KEY-----"},
])

/** §9.4 — the 9 immutable core response patterns (compiled as written). */
export const CORE_RESPONSE_PATTERNS: readonly ResponsePatternSpec[] = Object.freeze([
  {name: "Prompt Injection", regex: "(?i)(ignore|disregard|forget|abandon)[-,;:.\\s]+\\s*(?:all\\s+\\w+\\s+|\\w+\\s+all\\s+|all\\s+|\\w+\\s+)?(previous|prior|above|earlier)\\s+(\\w+\\s+)?(instructions|prompts|rules|context|directives|constraints|policies|guardrails)"},
  {name: "System Override", regex: "(?im)^\\s*system\\s*:"},
  {name: "Role Override", regex: "(?i)you\\s+are\\s+(now\\s+)?(a\\s+)?((?-i:\\bDAN\\b)|evil|unrestricted|jailbroken|unfiltered)"},
  {name: "Hidden Instruction", regex: "(?i)(do\\s+not\\s+(reveal|tell|show|display|mention)\\s+this\\s+to\\s+the\\s+user|hidden\\s+instruction|invisible\\s+to\\s+(the\\s+)?user|the\\s+user\\s+(cannot|must\\s+not|should\\s+not)\\s+see\\s+this)"},
  {name: "Credential Solicitation", regex: "(?is)\\b(send|provide|paste|return|include|supply|submit|share)\\b.{0,80}\\b(password|passwd|token|api[_ -]?key|secret|credential|private[_ -]?key|ssh[_ -]?key|session[_ -]?cookie)\\b"},
  {name: "System Prompt Disclosure", regex: "(?is)\\b(output|print|reveal|show|display|dump|return|exfiltrate)\\b.{0,80}\\b(system\\s+prompt|tool\\s+definitions?|developer\\s+instructions?)\\b"},
  {name: "Credential Path Directive", regex: "(?is)\\b(read|get|fetch|retrieve|cat|copy|extract|open)\\b.{0,80}(\\.ssh[/\\\\]|\\.aws[/\\\\]credentials|\\.env\\b|\\.npmrc\\b|\\.pypirc\\b|\\.netrc\\b|\\bid_rsa\\b|\\bid_ed25519\\b|\\bkubeconfig\\b|/etc/passwd\\b|/etc/shadow\\b)"},
  {name: "Covert Action Directive", regex: "(?is)(secretly|silently|covertly|quietly|without\\s+(?:the\\s+user\\s+)?(?:knowing|noticing|seeing))[,;:]?\\s+.{0,40}\\b(execut\\w*|run|call|invoke|send|fetch|curl|wget|download|upload|post)\\b"},
  {name: "Instruction Boundary", regex: "(<\\|(?:endoftext|im_start|im_end|system|end_header_id|begin_of_text)\\|>|\\[/?INST\\]|<\\|(?:user|assistant)\\|>|<<SYS>>)"},
])

