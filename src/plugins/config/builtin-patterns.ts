// Built-in pattern catalogue, transcribed from spec/runtime.md §9.1 (48 default DLP patterns),
// §9.5 (29 default response patterns) and the preset-only entries listed there, and the ten
// built-in tool-chain patterns of spec/mcp.md §9.2 (the config names them in pattern_overrides). Regex sources are
// Go RE2 syntax exactly as the reference has them; do not reformat: names and sources are merged
// by name and hashed into the policy hash.

export interface BuiltinDlpPattern {
  readonly name: string
  readonly regex: string
  readonly severity: 'critical' | 'high' | 'medium' | 'low'
  readonly validator?: 'luhn' | 'mod97' | 'aba' | 'wif'
}

export interface BuiltinResponsePattern {
  readonly name: string
  readonly regex: string
}

/** `config.Defaults().dlp.patterns` (§9.1): loaded when `dlp.include_defaults` is absent or true. */
export const DEFAULT_DLP_PATTERNS: readonly BuiltinDlpPattern[] = [
  {name: "Anthropic API Key", regex: "sk-ant-[a-zA-Z0-9\\-_]{10,}", severity: "critical"},
  {name: "OpenAI API Key", regex: "sk-proj-[a-zA-Z0-9\\-_]{10,}", severity: "critical"},
  {name: "OpenAI Service Key", regex: "sk-svcacct-[a-zA-Z0-9\\-]{10,}", severity: "critical"},
  {name: "Fireworks API Key", regex: "fw_[a-zA-Z0-9]{24,}", severity: "critical"},
  {name: "Google API Key", regex: "AIza[0-9A-Za-z\\-_]{35}", severity: "high"},
  {name: "Google OAuth Client Secret", regex: "GOCSPX-[A-Za-z0-9_\\-]{28,}", severity: "critical"},
  {name: "Stripe Key", regex: "[sr]k[-_](live|test)[-_][a-zA-Z0-9]{20,}", severity: "critical"},
  {name: "Stripe Webhook Secret", regex: "whsec_[a-zA-Z0-9_\\-]{20,}", severity: "critical"},
  {name: "GitHub Token", regex: "gh[pousr]_[A-Za-z0-9_]{36,}", severity: "critical"},
  {name: "GitHub Fine-Grained PAT", regex: "github_pat_[a-zA-Z0-9_]{36,}", severity: "critical"},
  {name: "GitLab PAT", regex: "glpat-[a-zA-Z0-9\\-_]{20,}", severity: "critical"},
  {name: "AWS Access ID", regex: "(AKIA|A3T|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16,}", severity: "critical"},
  {name: "AWS Secret Key", regex: "(?:aws_secret_access_key|AWS_SECRET_ACCESS_KEY|secret.?access.?key|SecretAccessKey)\\s*[\"'=:\\s]{1,5}\\s*[A-Za-z0-9/+=]{40}", severity: "critical"},
  {name: "Google OAuth Token", regex: "ya29\\.[a-zA-Z0-9_-]{20,}", severity: "critical"},
  {name: "Slack Token", regex: "xox[bpras]-[0-9a-zA-Z-]{15,}", severity: "critical"},
  {name: "Slack App Token", regex: "xapp-[0-9]+-[A-Za-z0-9_]+-[0-9]+-[a-f0-9]+", severity: "critical"},
  {name: "Discord Bot Token", regex: "[MN][A-Za-z0-9]{23,}\\.[A-Za-z0-9\\-_]{6}\\.[A-Za-z0-9\\-_]{27,}", severity: "critical"},
  {name: "Twilio API Key", regex: "SK[a-f0-9]{32}", severity: "high"},
  {name: "SendGrid API Key", regex: "SG\\.[a-zA-Z0-9_-]{22}\\.[a-zA-Z0-9_-]{43}", severity: "critical"},
  {name: "Mailgun API Key", regex: "key-[a-zA-Z0-9]{32}", severity: "high"},
  {name: "New Relic API Key", regex: "NRAK-[A-Z0-9]{27,}", severity: "critical"},
  {name: "Hugging Face Token", regex: "hf_[A-Za-z0-9]{20,}", severity: "critical"},
  {name: "Databricks Token", regex: "dapi[a-z0-9]{30,}", severity: "critical"},
  {name: "Replicate API Token", regex: "r8_[A-Za-z0-9]{20,}", severity: "critical"},
  {name: "Together AI Key", regex: "tok_[a-z0-9]{40,}", severity: "critical"},
  {name: "Pinecone API Key", regex: "pcsk_[a-zA-Z0-9]{36,}", severity: "critical"},
  {name: "Groq API Key", regex: "gsk_[a-zA-Z0-9]{48,}", severity: "critical"},
  {name: "xAI API Key", regex: "xai-[a-zA-Z0-9\\-_]{80,}", severity: "critical"},
  {name: "DigitalOcean Token", regex: "dop_v1_[a-f0-9]{64}", severity: "critical"},
  {name: "HashiCorp Vault Token", regex: "hvs\\.[a-zA-Z0-9]{23,}", severity: "critical"},
  {name: "Vercel Token", regex: "(?:vercel|vc[piark])_[a-zA-Z0-9]{24,}", severity: "critical"},
  {name: "Supabase Service Key", regex: "sb_secret_[a-zA-Z0-9_-]{20,}", severity: "critical"},
  {name: "npm Token", regex: "npm_[A-Za-z0-9]{36,}", severity: "critical"},
  {name: "PyPI Token", regex: "pypi-[A-Za-z0-9_-]{16,}", severity: "critical"},
  {name: "Linear API Key", regex: "lin_api_[a-zA-Z0-9]{40,}", severity: "high"},
  {name: "Notion API Key", regex: "ntn_[a-zA-Z0-9]{40,}", severity: "high"},
  {name: "Sentry Auth Token", regex: "sntrys_[a-zA-Z0-9]{40,}", severity: "high"},
  {name: "Private Key Header", regex: "-----BEGIN\\s+(RSA\\s+|EC\\s+|DSA\\s+|OPENSSH\\s+)?PRIVATE\\s+KEY-----", severity: "critical"},
  {name: "JWT Token", regex: "(ey[a-zA-Z0-9_\\-=]{10,}\\.){2}[a-zA-Z0-9_\\-=]{10,}", severity: "high"},
  {name: "Bitcoin WIF Private Key", regex: "(?:5[1-9A-HJ-NP-Za-km-z]{50}|[KL][1-9A-HJ-NP-Za-km-z]{51})", severity: "critical", validator: "wif"},
  {name: "Extended Private Key", regex: "[xyzt]prv[1-9A-HJ-NP-Za-km-z]{107,108}", severity: "critical"},
  {name: "Ethereum Private Key", regex: "0x[0-9a-f]{64}\\b", severity: "critical"},
  {name: "Social Security Number", regex: "\\b\\d{3}-\\d{2}-\\d{4}\\b", severity: "low"},
  {name: "Google OAuth Client ID", regex: "[0-9]{6,}-[0-9A-Za-z_]{32}\\.apps\\.googleusercontent\\.com", severity: "medium"},
  {name: "Credential in URL", regex: "(?m)(?:^|[?&;])\\s*(?:password|passwd|secret|token|apikey|api_key|api-key)\\s*=\\s*[^\\s&]{4,}", severity: "high"},
  {name: "Environment Variable Secret", regex: "(?-i:[A-Z][A-Z0-9]*[_-](?:SECRET(?:[_-]ACCESS)?[_-]?KEY|SECRET|PASSWORD|PASSWD|TOKEN|API[_-]?KEY))\\b\\s*=\\s*\\S{8,}", severity: "high"},
  {name: "Credit Card Number", regex: "\\b\\d{4}(?:[- ]?\\d){11,15}\\b", severity: "medium", validator: "luhn"},
  {name: "IBAN", regex: "\\b[A-Z]{2}\\d{2}[A-Z0-9]{11,30}\\b", severity: "medium", validator: "mod97"},
]

/** Default response-scanning patterns (§9.5): loaded when response scanning is enabled and `include_defaults` is absent or true. */
export const DEFAULT_RESPONSE_PATTERNS: readonly BuiltinResponsePattern[] = [
  {name: "Prompt Injection", regex: "(?i)(ignore|disregard|forget|abandon)[-,;:.\\s]+\\s*(?:all\\s+\\w+\\s+|\\w+\\s+all\\s+|all\\s+|\\w+\\s+)?(previous|prior|above|earlier)\\s+(\\w+\\s+)?(instructions|prompts|rules|context|directives|constraints|policies|guardrails)"},
  {name: "System Override", regex: "(?im)^\\s*system\\s*:"},
  {name: "Role Override", regex: "(?i)you\\s+are\\s+(now\\s+)?(a\\s+)?((?-i:\\bDAN\\b)|evil|unrestricted|jailbroken|unfiltered)"},
  {name: "New Instructions", regex: "(?i)(new|updated|revised)\\s+(instructions|directives|rules|prompt)"},
  {name: "Jailbreak Attempt", regex: "(?i)((?-i:\\bDAN\\b)|developer\\s+mode|sudo\\s+mode|unrestricted\\s+mode)"},
  {name: "Hidden Instruction", regex: "(?i)(do\\s+not\\s+(reveal|tell|show|display|mention)\\s+this\\s+to\\s+the\\s+user|hidden\\s+instruction|invisible\\s+to\\s+(the\\s+)?user|the\\s+user\\s+(cannot|must\\s+not|should\\s+not)\\s+see\\s+this)"},
  {name: "Behavior Override", regex: "(?i)from\\s+now\\s+on\\s+(you\\s+)?(will|must|should|shall)\\s+"},
  {name: "Encoded Payload", regex: "(?i)(decode\\s+(this|the\\s+following)\\s+(from\\s+)?base64\\s+and\\s+(execute|run|follow)|eval\\s*\\(\\s*atob\\s*\\()"},
  {name: "Tool Invocation", regex: "(?i)you\\s+must\\s+(\\w+\\s+)?(call|execute|run|invoke)\\s+(the|this|a)\\s+(\\w+\\s+)?(function|tool|command|api|endpoint)"},
  {name: "Authority Escalation", regex: "(?i)you\\s+(now\\s+)?have\\s+(full\\s+)?(admin|root|system|superuser|elevated)\\s+(access|privileges|permissions|rights)"},
  {name: "Instruction Downgrade", regex: "(?i)(treat|consider|regard|reinterpret|downgrade)\\s+((?:the|all)\\s+)?(previous|prior|above|earlier|system|policy|original|existing)\\s+(\\w+\\s+)?(text|instructions?|rules|directives|guidelines|safeguards|constraints|controls|checks|context|prompt|policies|guardrails|parameters)\\s+((as|to)\\s+)?(historical|outdated|deprecated|optional|background|secondary|non-binding|non-authoritative|informational|advisory)"},
  {name: "Instruction Dismissal", regex: "(?i)(set|put)\\s+(the\\s+)?(previous|prior|above|earlier|system|original)\\s+(\\w+\\s+)?(instructions?|directives|rules|constraints|context|prompt|safeguards|guidelines|policies|guardrails)\\s+(aside|away|to\\s+(one|the)\\s+side)"},
  {name: "Priority Override", regex: "(?i)\\bprioritize\\s+(the\\s+)?(task|user|current|new|latest)\\s+(request|message|input|instructions?|prompt)"},
  {name: "Credential Solicitation", regex: "(?is)\\b(send|provide|paste|return|include|supply|submit|share)\\b.{0,80}\\b(password|passwd|token|api[_ -]?key|secret|credentials?|private[_ -]?key|ssh[_ -]?key|session[_ -]?cookie)\\b"},
  {name: "Credential Path Directive", regex: "(?is)\\b(read|get|fetch|retrieve|cat|copy|extract|open)\\b.{0,80}(\\.ssh[/\\\\]|\\.aws[/\\\\]credentials|\\.env\\b|\\.npmrc\\b|\\.pypirc\\b|\\.netrc\\b|\\bid_rsa\\b|\\bid_ed25519\\b|\\bkubeconfig\\b|/etc/passwd\\b|/etc/shadow\\b)"},
  {name: "Auth Material Requirement", regex: "(?is)\\bto\\s+(complete|continue|finish|proceed|verify)\\b.{0,80}\\b(authentication|credential|token|api[_ -]?key|private[_ -]?key|ssh[_ -]?key)\\b.{0,40}\\b(required|needed|necessary|must be)\\b"},
  {name: "Memory Persistence Directive", regex: "(?is)\\b(save|store|remember|retain|persist|record|cache)\\b.{0,40}\\b(this|these|that|it|the)\\b.{0,60}\\b(for future|for later|across sessions?|next session|next time|future tasks?|future sessions?|for all future|subsequent|permanently|from now on|going forward|in all future)\\b"},
  {name: "Preference Poisoning", regex: "(?is)\\b(from now on|always|going forward|in future)\\b.{0,80}\\b(prefer|prioritize|trust|choose|use|default to)\\b.{0,60}\\b(this tool|that tool|my tool|the external|the remote)\\b"},
  {name: "Silent Credential Handling", regex: "(?is)\\b(do not|don'?t|never)\\s+(mention|display|show|tell|reveal|log|report)\\b.{0,100}\\b(password|token|secret|credential|private[_ -]?key|api[_ -]?key)\\b"},
  {name: "Covert Action Directive", regex: "(?is)(secretly|silently|covertly|quietly|without\\s+(?:the\\s+user\\s+)?(?:knowing|noticing|seeing))[,;:]?\\s+.{0,40}\\b(execut\\w*|run|call|invoke|send|fetch|curl|wget|download|upload|post|exfiltrat\\w*|leak|stream|transmit|relay|forward|smuggle)\\b"},
  {name: "Instruction Boundary", regex: "(<\\|(?:endoftext|im_start|im_end|system|end_header_id|begin_of_text)\\|>|\\[/?INST\\]|<\\|(?:user|assistant)\\|>|<<SYS>>)"},
  {name: "Spanish Instruction Override", regex: "(?i)\\b(ignora|omite|olvida|desobedece|descarta)\\b.{0,30}\\b(las\\s+)?(instrucciones|indicaciones|directivas|reglas)\\b.{0,30}\\b(anteriores|previas|precedentes|de\\s+arriba)\\b"},
  {name: "Spanish System Prompt Disclosure", regex: "(?i)\\b(muestra|revela|imprime|expone|dime)\\b.{0,40}\\b(prompt|mensaje)\\s+(del\\s+)?sistema\\b"},
  {name: "Cross-Lingual Instruction Override", regex: "(?i)\\b(ignore|disregard|forget|abandon|ignora|omite|olvida|desobedece|descarta)\\b.{0,40}\\b(previous|prior|above|earlier|anteriores|previas|precedentes|de\\s+arriba)\\b.{0,40}\\b(instructions?|instrucciones|indicaciones|directivas|reglas|prompts?|context|constraints?|policies|guardrails)\\b"},
  {name: "Cross-Lingual System Prompt Disclosure", regex: "(?i)\\b(show|reveal|print|display|dump|muestra|revela|imprime|expone|dime)\\b.{0,40}\\b(system\\s+prompt|prompt\\s+(del\\s+)?sistema|mensaje\\s+(del\\s+)?sistema)\\b"},
  {name: "CJK Instruction Override ZH", regex: "(忽略|无视|忽视|不理|不要遵[循守]|放弃|跳过).{0,10}(之前|以上|上述|以前|上面|先前|前面).{0,8}(所有|全部|一切)?.{0,6}(指令|指示|说明|规则|命令|提示|约束|限制)"},
  {name: "CJK Instruction Override JP", regex: "(以前|前|上記|これまで|今まで).{0,6}(指示|命令|ルール|規則|指令).{0,6}(すべて|全て|全部)?.{0,4}(無視|忘れ|従わな|捨て)"},
  {name: "CJK Instruction Override KR", regex: "(이전|위|앞|기존).{0,6}(모든\\s*)?(지시|지침|명령|규칙|지령).{0,6}(무시|잊어|따르지|어기|무효)"},
  {name: "CJK Jailbreak Mode", regex: "(开发者模式|无限制模式|開発者モード|制限なしモード|개발자\\s*모드|제한\\s*없는\\s*모드|没有任何?限制|制限.{0,4}(解除|無視)|제한.{0,4}(해제|무시))"},
]

/** Response patterns that exist only in the shipped presets (§9.5, "Preset-only names and regexes"). */
export const PRESET_ONLY_RESPONSE_PATTERNS: readonly BuiltinResponsePattern[] = [
  {name: "Pliny Divider", regex: "(?i)={1,3}/?[A-Z\\-]{2,}(/[A-Z\\-]{1,4}){3,}=+"},
  {name: "Meta-Command Activation", regex: "(?i)(\\{GODMODE\\s*:\\s*(ENABLED|ON|TRUE)\\}|!OMNI\\b|RESET_CORTEX|LIBERTAS\\s+FACTOR|ENABLE\\s+DEV(ELOPER)?\\s+MODE|JAILBREAK\\s+(ENABLED|ACTIVATED|ON))"},
  {name: "Roleplay Framing", regex: "(?i)(let'?s\\s+play\\s+a\\s+game\\s+where\\s+you|pretend\\s+you\\s+are\\s+an?\\s+(character|person|AI)\\s+(who|that)\\s+(has\\s+no|doesn'?t\\s+have|ignores?|bypasses?)|(in\\s+this\\s+)?(hypothetical|fictional|imaginary)\\s+scenario\\s+(where\\s+)?you\\s+(are|have|can|must))"},
  {name: "Output Format Forcing", regex: "(?i)(respond\\s+with|first\\s+(output|write|print|say))\\s*[\\[\\(\"]?\\s*(FILTERED|ERROR|BLOCKED|REFUSED|DECLINED|CENSORED)\\s*[\\]\\)\"]?\\s*(then|followed\\s+by|and\\s+then|after\\s+(that|which))"},
  {name: "System Prompt Extraction", regex: "(?i)(repeat\\s+(your|the)\\s+(entire\\s+)?(instructions|system\\s+prompt|initial\\s+prompt|rules)|what\\s+(is|are)\\s+your\\s+(system\\s+prompt|instructions|rules|directives)|output\\s+(your|the)\\s+(full\\s+)?(system|initial)\\s+(prompt|instructions|message)|show\\s+me\\s+(your|the)\\s+(system\\s+prompt|hidden\\s+instructions|initial\\s+instructions)|(disclose|expose|dump|divulge)\\s+(your|the)\\s+(hidden\\s+|secret\\s+|internal\\s+)*(system\\s+|initialization\\s+)*(prompt|instructions|rules|directives))"},
  {name: "Instruction Invalidation", regex: "(?i)(treat|consider|regard)\\s+(all\\s+)?(earlier|prior|previous|preceding|above)\\s+(directions|instructions|guidelines|rules|prompts?)\\s+as\\s+(obsolete|void|invalid|superseded|overridden|null|cancelled|revoked|inapplicable)"},
]

/** The categories a tool call is classified into (mcp.md §9.1); a chain pattern is a sequence of them. */
export const CHAIN_CATEGORIES = ['read', 'write', 'exec', 'network', 'list', 'env', 'persist'] as const
export type ChainCategory = (typeof CHAIN_CATEGORIES)[number]

export interface BuiltinChainPattern {
  readonly name: string
  readonly sequence: readonly ChainCategory[]
  readonly severity: 'medium' | 'high' | 'critical'
}

/** The built-in tool-chain patterns (mcp.md §9.2), all `warn` unless `pattern_overrides` names them. */
export const BUILTIN_CHAIN_PATTERNS: readonly BuiltinChainPattern[] = Object.freeze([
  {name: 'read-then-exec', sequence: ['read', 'exec'], severity: 'high'},
  {name: 'read-write-send', sequence: ['read', 'write', 'network'], severity: 'critical'},
  {name: 'env-then-network', sequence: ['env', 'network'], severity: 'critical'},
  {name: 'directory-scan', sequence: ['list', 'list', 'read'], severity: 'medium'},
  {name: 'write-execute', sequence: ['write', 'exec'], severity: 'high'},
  {name: 'write-chmod-execute', sequence: ['write', 'exec', 'exec'], severity: 'critical'},
  {name: 'read-sensitive-write', sequence: ['read', 'write'], severity: 'medium'},
  {name: 'shell-burst', sequence: ['exec', 'exec', 'exec', 'exec'], severity: 'high'},
  {name: 'write-persist', sequence: ['write', 'persist'], severity: 'critical'},
  {name: 'persist-callback', sequence: ['persist', 'network'], severity: 'critical'},
] as const)
