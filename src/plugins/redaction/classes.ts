/**
 * The built-in redaction classes (envelope-redaction spec §14.1): name, overlap priority and RE2
 * source (unanchored, per scalar). `seed-phrase` is a detector, not a regex (seed.ts).
 */

const O = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const IP4 = `\\b${O}\\.${O}\\.${O}\\.${O}`

/**
 * `ssh-private-key` (§14.1 fix R3): the reference replaced only the BEGIN line and forwarded the
 * key's body. Here a match runs through the matching END line (lazily, one alternative per key
 * type: RE2 has no back-references), or to the end of the scalar when there is none.
 */
const SSH_KEY = ['OPENSSH', 'RSA', 'DSA', 'EC', 'PGP']
  .map((t) => `-----BEGIN ${t} PRIVATE KEY(?: BLOCK)?-----(?:(?s:.*?)-----END ${t} PRIVATE KEY(?: BLOCK)?-----|(?s:.*)$)`)
  .join('|')

export interface BuiltinClass {
  readonly name: string
  readonly priority: number
  /** RE2 source; null for the seed-phrase detector. */
  readonly source: string | null
}

const hash = (n: number): string => `\\b[a-fA-F0-9]{${n}}\\b`

export const BUILTIN_CLASSES: readonly BuiltinClass[] = [
  {name: 'env-secret', priority: 120, source: '\\b(?:[A-Z][A-Z0-9]*[_-])+(?:SECRET(?:[_-]ACCESS)?[_-]?KEY|SECRET|PASSWORD|PASSWD|TOKEN|API[_-]?KEY)\\b\\s*=\\s*\\S{8,}'},
  {name: 'aws-access-key', priority: 100, source: '\\b(?:AKIA|ASIA|AIDA|AGPA|AROA)[A-Z0-9]{16}\\b'},
  {name: 'aws-secret-key', priority: 100, source: '(?i)\\b(?:aws_secret_access_key|secret.?access.?key|SecretAccessKey)\\s*["\'=:\\s]{1,5}\\s*[A-Za-z0-9/+=]{40}\\b'},
  {name: 'google-api-key', priority: 100, source: '\\bAIza[0-9A-Za-z_-]{35}\\b'},
  {name: 'github-token', priority: 100, source: '\\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}\\b'},
  {name: 'gitlab-token', priority: 100, source: '\\bglpat-[A-Za-z0-9_-]{20,}\\b'},
  {name: 'slack-token', priority: 100, source: '\\bxox[baprs]-[A-Za-z0-9-]{10,}\\b'},
  {name: 'openai-api-key', priority: 100, source: '\\bsk-(?:proj|svcacct)-[A-Za-z0-9_-]{10,}\\b'},
  {name: 'anthropic-api-key', priority: 100, source: '\\bsk-ant-[A-Za-z0-9_-]{10,}\\b'},
  {name: 'telegram-bot-token', priority: 100, source: '\\b[0-9]{8,10}:[A-Za-z0-9_-]{35}\\b'},
  {name: 'discord-bot-token', priority: 100, source: '\\b[MN][A-Za-z0-9]{23,}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,}\\b'},
  {name: 'jwt', priority: 100, source: '\\beyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\b'},
  {name: 'ssh-private-key', priority: 100, source: SSH_KEY},
  {name: 'bearer', priority: 95, source: '(?i)\\bbearer\\s+[A-Za-z0-9._~+/-]{20,}\\b'},
  {name: 'ad-user', priority: 95, source: '\\b[A-Z][A-Z0-9_-]{1,20}\\\\[A-Za-z0-9._-]{2,}\\b'},
  {name: 'ssn', priority: 95, source: '\\b\\d{3}-\\d{2}-\\d{4}\\b'},
  {name: 'hash-sha512', priority: 90, source: hash(128)},
  {name: 'hash-sha256', priority: 85, source: hash(64)},
  {name: 'hash-sha1', priority: 80, source: hash(40)},
  {name: 'hash-md5', priority: 75, source: hash(32)},
  {name: 'credit-card', priority: 90, source: '\\b(?:3[47]\\d{2}[ -]?\\d{6}[ -]?\\d{5}|(?:4\\d{3}|5[1-5]\\d{2}|6011|65\\d{2})[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{4})\\b'},
  {name: 'cidr', priority: 72, source: `${IP4}/(?:3[0-2]|[12]?\\d)\\b`},
  {name: 'ipv4', priority: 70, source: `${IP4}\\b`},
  {name: 'ipv6', priority: 68, source: '\\b(?:[A-Fa-f0-9]{1,4}:){7}[A-Fa-f0-9]{1,4}\\b|\\b[A-Fa-f0-9]+(?::[A-Fa-f0-9]*)*::(?:[A-Fa-f0-9]*:?)*[A-Fa-f0-9]*\\b|::[A-Fa-f0-9]+(?::[A-Fa-f0-9]*)*\\b'},
  {name: 'mac', priority: 65, source: '\\b(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}\\b'},
  {name: 'email', priority: 60, source: '\\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}\\b'},
  {name: 'fqdn', priority: 50, source: '\\b(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.){1,}[a-zA-Z]{2,24}\\b'},
  {name: 'seed-phrase', priority: 130, source: null},
]

/** The 28 class names a profile may list (§14.1). */
export const BUILTIN_CLASS_NAMES: readonly string[] = BUILTIN_CLASSES.map((c) => c.name)

/** Class emitted for `dlp.secrets_file` values (§14.3); not a profile class. */
export const KNOWN_SECRET_CLASS = 'known-secret'
export const KNOWN_SECRET_PRIORITY = 140
