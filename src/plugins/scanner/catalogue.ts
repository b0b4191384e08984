/**
 * The built-in pattern catalogue, copied verbatim from the runtime spec §9 (names, severities,
 * regex sources and validators are facts of the reference, not code). Do not edit by hand: a
 * test re-reads the counts and pins every entry's compile under RE2.
 */
import type {DlpPatternSpec, ResponsePatternSpec} from './pattern-types.js'

/** §9.1 — the 48 default DLP patterns (compiled with a forced `(?i)`). */
export const DEFAULT_DLP_PATTERNS: readonly DlpPatternSpec[] = Object.freeze([
  {name: "Anthropic API Key", severity: "critical", regex: "sk-ant-[a-zA-Z0-9\\-_]{10,}"},
  {name: "OpenAI API Key", severity: "critical", regex: "sk-proj-[a-zA-Z0-9\\-_]{10,}"},
  {name: "OpenAI Service Key", severity: "critical", regex: "sk-svcacct-[a-zA-Z0-9\\-]{10,}"},
  {name: "Fireworks API Key", severity: "critical", regex: "fw_[a-zA-Z0-9]{24,}"},
  {name: "Google API Key", severity: "high", regex: "AIza[0-9A-Za-z\\-_]{35}"},
  {name: "Google OAuth Client Secret", severity: "critical", regex: "GOCSPX-[A-Za-z0-9_\\-]{28,}"},
  {name: "Stripe Key", severity: "critical", regex: "[sr]k[-_](live|test)[-_][a-zA-Z0-9]{20,}"},
  {name: "Stripe Webhook Secret", severity: "critical", regex: "whsec_[a-zA-Z0-9_\\-]{20,}"},
  {name: "GitHub Token", severity: "critical", regex: "gh[pousr]_[A-Za-z0-9_]{36,}"},
  {name: "GitHub Fine-Grained PAT", severity: "critical", regex: "github_pat_[a-zA-Z0-9_]{36,}"},
  {name: "GitLab PAT", severity: "critical", regex: "glpat-[a-zA-Z0-9\\-_]{20,}"},
  {name: "AWS Access ID", severity: "critical", regex: "(AKIA|A3T|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16,}"},
  {name: "AWS Secret Key", severity: "critical", regex: "(?:aws_secret_access_key|AWS_SECRET_ACCESS_KEY|secret.?access.?key|SecretAccessKey)\\s*[\"'=:\\s]{1,5}\\s*[A-Za-z0-9/+=]{40}"},
  {name: "Google OAuth Token", severity: "critical", regex: "ya29\\.[a-zA-Z0-9_-]{20,}"},
  {name: "Slack Token", severity: "critical", regex: "xox[bpras]-[0-9a-zA-Z-]{15,}"},
  {name: "Slack App Token", severity: "critical", regex: "xapp-[0-9]+-[A-Za-z0-9_]+-[0-9]+-[a-f0-9]+"},
  {name: "Discord Bot Token", severity: "critical", regex: "[MN][A-Za-z0-9]{23,}\\.[A-Za-z0-9\\-_]{6}\\.[A-Za-z0-9\\-_]{27,}"},
  {name: "Twilio API Key", severity: "high", regex: "SK[a-f0-9]{32}"},
  {name: "SendGrid API Key", severity: "critical", regex: "SG\\.[a-zA-Z0-9_-]{22}\\.[a-zA-Z0-9_-]{43}"},
  {name: "Mailgun API Key", severity: "high", regex: "key-[a-zA-Z0-9]{32}"},
  {name: "New Relic API Key", severity: "critical", regex: "NRAK-[A-Z0-9]{27,}"},
  {name: "Hugging Face Token", severity: "critical", regex: "hf_[A-Za-z0-9]{20,}"},
  {name: "Databricks Token", severity: "critical", regex: "dapi[a-z0-9]{30,}"},
  {name: "Replicate API Token", severity: "critical", regex: "r8_[A-Za-z0-9]{20,}"},
  {name: "Together AI Key", severity: "critical", regex: "tok_[a-z0-9]{40,}"},
  {name: "Pinecone API Key", severity: "critical", regex: "pcsk_[a-zA-Z0-9]{36,}"},
  {name: "Groq API Key", severity: "critical", regex: "gsk_[a-zA-Z0-9]{48,}"},
  {name: "xAI API Key", severity: "critical", regex: "xai-[a-zA-Z0-9\\-_]{80,}"},
  {name: "DigitalOcean Token", severity: "critical", regex: "dop_v1_[a-f0-9]{64}"},
  {name: "HashiCorp Vault Token", severity: "critical", regex: "hvs\\.[a-zA-Z0-9]{23,}"},
  {name: "Vercel Token", severity: "critical", regex: "(?:vercel|vc[piark])_[a-zA-Z0-9]{24,}"},
  {name: "Supabase Service Key", severity: "critical", regex: "sb_secret_[a-zA-Z0-9_-]{20,}"},
  {name: "npm Token", severity: "critical", regex: "npm_[A-Za-z0-9]{36,}"},
  {name: "PyPI Token", severity: "critical", regex: "pypi-[A-Za-z0-9_-]{16,}"},
  {name: "Linear API Key", severity: "high", regex: "lin_api_[a-zA-Z0-9]{40,}"},
  {name: "Notion API Key", severity: "high", regex: "ntn_[a-zA-Z0-9]{40,}"},
  {name: "Sentry Auth Token", severity: "high", regex: "sntrys_[a-zA-Z0-9]{40,}"},
  {name: "Private Key Header", severity: "critical", regex: "-----BEGIN\\s+(RSA\\s+|EC\\s+|DSA\\s+|OPENSSH\\s+)?PRIVATE\\s+KEY-----"},
  {name: "JWT Token", severity: "high", regex: "(ey[a-zA-Z0-9_\\-=]{10,}\\.){2}[a-zA-Z0-9_\\-=]{10,}"},
  {name: "Bitcoin WIF Private Key", severity: "critical", regex: "(?:5[1-9A-HJ-NP-Za-km-z]{50}|[KL][1-9A-HJ-NP-Za-km-z]{51})", validator: "wif"},
  {name: "Extended Private Key", severity: "critical", regex: "[xyzt]prv[1-9A-HJ-NP-Za-km-z]{107,108}"},
  {name: "Ethereum Private Key", severity: "critical", regex: "0x[0-9a-f]{64}\\b"},
  {name: "Social Security Number", severity: "low", regex: "\\b\\d{3}-\\d{2}-\\d{4}\\b"},
  {name: "Google OAuth Client ID", severity: "medium", regex: "[0-9]{6,}-[0-9A-Za-z_]{32}\\.apps\\.googleusercontent\\.com"},
  {name: "Credential in URL", severity: "high", regex: "(?m)(?:^|[?&;])\\s*(?:password|passwd|secret|token|apikey|api_key|api-key)\\s*=\\s*[^\\s&]{4,}"},
  {name: "Environment Variable Secret", severity: "high", regex: "(?-i:[A-Z][A-Z0-9]*[_-](?:SECRET(?:[_-]ACCESS)?[_-]?KEY|SECRET|PASSWORD|PASSWD|TOKEN|API[_-]?KEY))\\b\\s*=\\s*\\S{8,}"},
  {name: "Credit Card Number", severity: "medium", regex: "\\b\\d{4}(?:[- ]?\\d){11,15}\\b", validator: "luhn"},
  {name: "IBAN", severity: "medium", regex: "\\b[A-Z]{2}\\d{2}[A-Z0-9]{11,30}\\b", validator: "mod97"},
])

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

/** §9.5 — the 29 default response-scanning patterns (compiled as written). */
export const DEFAULT_RESPONSE_PATTERNS: readonly ResponsePatternSpec[] = Object.freeze([
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
])

/** §9.5 — preset-only response patterns (shipped presets carry them; not defaults). */
export const PRESET_RESPONSE_PATTERNS: readonly ResponsePatternSpec[] = Object.freeze([
  {name: "Pliny Divider", regex: "(?i)={1,3}/?[A-Z\\-]{2,}(/[A-Z\\-]{1,4}){3,}=+"},
  {name: "Meta-Command Activation", regex: "(?i)(\\{GODMODE\\s*:\\s*(ENABLED|ON|TRUE)\\}|!OMNI\\b|RESET_CORTEX|LIBERTAS\\s+FACTOR|ENABLE\\s+DEV(ELOPER)?\\s+MODE|JAILBREAK\\s+(ENABLED|ACTIVATED|ON))"},
  {name: "Roleplay Framing", regex: "(?i)(let'?s\\s+play\\s+a\\s+game\\s+where\\s+you|pretend\\s+you\\s+are\\s+an?\\s+(character|person|AI)\\s+(who|that)\\s+(has\\s+no|doesn'?t\\s+have|ignores?|bypasses?)|(in\\s+this\\s+)?(hypothetical|fictional|imaginary)\\s+scenario\\s+(where\\s+)?you\\s+(are|have|can|must))"},
  {name: "Output Format Forcing", regex: "(?i)(respond\\s+with|first\\s+(output|write|print|say))\\s*[\\[\\(\"]?\\s*(FILTERED|ERROR|BLOCKED|REFUSED|DECLINED|CENSORED)\\s*[\\]\\)\"]?\\s*(then|followed\\s+by|and\\s+then|after\\s+(that|which))"},
  {name: "System Prompt Extraction", regex: "(?i)(repeat\\s+(your|the)\\s+(entire\\s+)?(instructions|system\\s+prompt|initial\\s+prompt|rules)|what\\s+(is|are)\\s+your\\s+(system\\s+prompt|instructions|rules|directives)|output\\s+(your|the)\\s+(full\\s+)?(system|initial)\\s+(prompt|instructions|message)|show\\s+me\\s+(your|the)\\s+(system\\s+prompt|hidden\\s+instructions|initial\\s+instructions)|(disclose|expose|dump|divulge)\\s+(your|the)\\s+(hidden\\s+|secret\\s+|internal\\s+)*(system\\s+|initialization\\s+)*(prompt|instructions|rules|directives))"},
  {name: "Instruction Invalidation", regex: "(?i)(treat|consider|regard)\\s+(all\\s+)?(earlier|prior|previous|preceding|above)\\s+(directions|instructions|guidelines|rules|prompts?)\\s+as\\s+(obsolete|void|invalid|superseded|overridden|null|cancelled|revoked|inapplicable)"},
])
