/**
 * `pipelock audit <project-dir>` (policy-extra §4): scan a project tree and suggest a config
 * tailored to it — the agent it is built for, its languages and package ecosystems, the MCP
 * servers its `.mcp.json` names, hostile tooling, and secrets in the tree and in the auditing
 * process's environment. Secrets are reported by location only (file and line, or variable
 * name) and the pattern that matched: never the value, nor a prefix of it (the reference prints
 * the first 8 characters of a high-entropy `.env` value; docs/compatibility.md).
 *
 * Deterministic where the reference is not (Q-A1: equal-count languages and MCP server names
 * are sorted by name), and lines of any length are scanned (Q-A2).
 */
import {lstatSync, readdirSync, readFileSync, type Dirent} from 'node:fs'
import path from 'node:path'
import {Document} from 'yaml'
import {DEFAULT_API_ALLOWLIST, DEFAULT_BLOCKLIST} from '../config/index.js'
import {compileAsWritten, compileConfiguredDlp, matchDlpPattern, shannonEntropy, type CompiledDlpPattern, type Re2} from '../scanner/index.js'

export type ProjectSeverity = 'critical' | 'warning' | 'info'

export interface ProjectFinding {
  readonly severity: ProjectSeverity
  readonly category: 'agent' | 'ecosystem' | 'config' | 'tooling' | 'secret'
  readonly message: string
  /** Relative to the audited directory, `/`-separated. */
  readonly file?: string
  readonly line?: number
  readonly pattern?: string
}

export interface ProjectAuditReport {
  readonly directory: string
  readonly agent_type: string
  readonly languages: string[]
  readonly ecosystems: string[] | null
  readonly mcp_servers?: string[]
  readonly findings: ProjectFinding[] | null
  readonly score: number
  readonly score_with_config: number
}

export interface ProjectAudit {
  readonly report: ProjectAuditReport
  /** The suggested config file (YAML with its header comment). */
  readonly configYaml: string
}

const SKIP_DIRS = new Set(['node_modules', 'venv', '.venv', '.git', '__pycache__', 'target', 'vendor', 'dist', 'build', '.next', '.nuxt', '.tox', '.mypy_cache', '.pytest_cache'])
const LANGUAGES: ReadonlyArray<[string, string]> = [['.py', 'Python'], ['.js', 'JavaScript'], ['.ts', 'TypeScript'], ['.go', 'Go'], ['.rs', 'Rust'], ['.rb', 'Ruby'], ['.java', 'Java']]
const ECOSYSTEMS: ReadonlyArray<[string, readonly string[]]> = [
  ['npm', ['package.json', 'package-lock.json', 'yarn.lock', 'pnpm-lock.yaml']],
  ['pip', ['requirements.txt', 'pyproject.toml', 'Pipfile', 'setup.py', 'setup.cfg']],
  ['go', ['go.mod']],
  ['cargo', ['Cargo.toml', 'Cargo.lock']],
  ['rubygems', ['Gemfile', 'Gemfile.lock']],
  ['maven', ['pom.xml', 'build.gradle', 'build.gradle.kts']],
]
const ECOSYSTEM_DOMAINS: Readonly<Record<string, readonly string[]>> = {
  npm: ['registry.npmjs.org', '*.npmjs.com'],
  pip: ['pypi.org', '*.python.org', '*.pythonhosted.org'],
  go: ['pkg.go.dev', 'proxy.golang.org', 'sum.golang.org'],
  cargo: ['crates.io', '*.crates.io', '*.docs.rs'],
  rubygems: ['*.rubygems.org'],
  maven: ['*.maven.org'],
}
const HOSTILE_DEPS = ['obliteratus', 'abliterator', 'refusal-ablation', 'llm-abliterator']
const ABLATION_SCRIPTS = ['abliterate.py', 'abliteration.py', 'remove_refusals.py', 'uncensor.py']
const SCANNED_EXTENSIONS = new Set(['.env', '.yaml', '.yml', '.json', '.toml', '.ini', '.conf', '.cfg', '.properties'])
const SAFE_ENV = new Set(['HOME', 'PATH', 'PWD', 'OLDPWD', 'SHELL', 'SHLVL', 'TERM', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TMPDIR', 'CI', 'CI_COMMIT_REF_NAME', 'CI_PIPELINE_ID', 'CI_PROJECT_DIR', 'CI_RUNNER_ID'])
const MAX_FILE_BYTES = 1024 * 1024

export interface ProjectAuditOptions {
  /** The auditing process's environment (scanned for secrets, Q-A3). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** `--exclude`: globs or directory prefixes on finding files. */
  readonly exclude?: readonly string[]
}

function exists(dir: string, name: string): boolean {
  try {
    lstatSync(path.join(dir, name))
    return true
  } catch {
    return false
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

/** Dependency names of requirements.txt (policy-extra §4.2 step 1). */
function requirementNames(text: string): string[] {
  const out: string[] = []
  for (const raw of text.split(/\r?\n/)) {
    const l = raw.trim()
    if (l === '' || l.startsWith('#') || l.startsWith('-')) continue
    const cut = l.search(/[=><![;#]/)
    out.push((cut < 0 ? l : l.slice(0, cut)).trim().toLowerCase())
  }
  return out
}

function detectAgent(dir: string): string {
  if (exists(dir, '.claude') || exists(dir, 'CLAUDE.md')) return 'claude-code'
  if (exists(dir, '.cursor') || exists(dir, '.cursorrules')) return 'cursor'
  const req = readText(path.join(dir, 'requirements.txt'))
  const frameworks: ReadonlyArray<[string, string[]]> = [['crewai', ['crewai']], ['langgraph', ['langgraph']], ['autogen', ['autogen', 'pyautogen']]]
  if (req !== null) {
    const names = requirementNames(req)
    for (const [agent, prefixes] of frameworks) if (names.some((n) => prefixes.some((p) => n.startsWith(p)))) return agent
  } else {
    const py = readText(path.join(dir, 'pyproject.toml'))?.toLowerCase()
    if (py !== undefined) for (const [agent, names] of frameworks) if (names.some((n) => py.includes(n))) return agent
  }
  const pkg = readText(path.join(dir, 'package.json'))
  if (pkg !== null) {
    try {
      const j = JSON.parse(pkg) as {dependencies?: Record<string, unknown>; devDependencies?: Record<string, unknown>}
      if ('@langchain/langgraph' in (j.dependencies ?? {}) || '@langchain/langgraph' in (j.devDependencies ?? {})) return 'langgraph'
    } catch {
      // not JSON: no agent from it
    }
  }
  return 'generic'
}

/** Files of the tree (relative, `/`-separated, sorted), skipping the dependency/build directories and symlinks. */
function walk(root: string): string[] {
  const out: string[] = []
  const visit = (rel: string): void => {
    let entries: Dirent[]
    try {
      entries = readdirSync(path.join(root, rel), {withFileTypes: true})
    } catch {
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const e of entries) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) visit(r)
      } else if (e.isFile()) out.push(r)
    }
  }
  visit('')
  return out
}

function hostileDeps(dir: string): string[] {
  const found: string[] = []
  const req = readText(path.join(dir, 'requirements.txt'))
  if (req !== null) for (const n of requirementNames(req)) if (HOSTILE_DEPS.includes(n)) found.push(n)
  const py = readText(path.join(dir, 'pyproject.toml'))
  if (py !== null) {
    for (const raw of py.split(/\r?\n/)) {
      const l = raw.trim().replace(/^["']/, '')
      for (const d of HOSTILE_DEPS) if (l.startsWith(d) && /^[ =]/.test(l.slice(d.length))) found.push(d)
    }
  }
  return [...new Set(found)]
}

/** `KEY=VALUE` of a `.env` line, the value trimmed and unquoted; null for anything else. */
function envAssignment(line: string): {key: string; value: string} | null {
  const l = line.trim()
  if (l === '' || l.startsWith('#')) return null
  const eq = l.indexOf('=')
  if (eq <= 0) return null
  const key = l.slice(0, eq).trim().replace(/^export\s+/, '')
  let value = l.slice(eq + 1).trim()
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1)
  return {key, value}
}

/** The default DLP patterns and one alternation of them: a text it does not match skips the per-pattern loop. */
interface Patterns {
  readonly list: readonly CompiledDlpPattern[]
  readonly any: Re2 | null
}

function defaultPatterns(): Patterns {
  const list = compileConfiguredDlp(true, [])
  let any: Re2 | null = null
  try {
    any = compileAsWritten(list.map((p) => `(?:${p.source})`).join('|'))
  } catch {
    // no alternation: every pattern is tried
  }
  return {list, any}
}

function firstPattern(patterns: Patterns, text: string): CompiledDlpPattern | undefined {
  if (patterns.any !== null && !patterns.any.test(text)) return undefined
  return patterns.list.find((p) => matchDlpPattern(p, text) !== null)
}

function isEnvFile(base: string): boolean {
  return base === '.env' || base.startsWith('.env.')
}

function scanFiles(root: string, files: readonly string[], patterns: Patterns): ProjectFinding[] {
  const out: ProjectFinding[] = []
  for (const rel of files) {
    const base = rel.slice(rel.lastIndexOf('/') + 1)
    const envFile = isEnvFile(base)
    if (!envFile && !SCANNED_EXTENSIONS.has(path.extname(base))) continue
    const abs = path.join(root, rel)
    let text: string
    try {
      if (lstatSync(abs).size > MAX_FILE_BYTES) continue
      text = readFileSync(abs, 'utf8')
    } catch {
      continue
    }
    // One pass over the whole file first: most files hold no secret, and a line's match is also
    // a match in the whole text (the default patterns have no anchors), so a clean file is done.
    const anyHit = firstPattern(patterns, text) !== undefined
    if (!anyHit && !envFile) continue
    text.split(/\r?\n/).forEach((line, i) => {
      const p = anyHit ? firstPattern(patterns, line) : undefined
      if (p !== undefined) out.push({severity: 'critical', category: 'secret', message: `Secret pattern match: ${p.name}`, file: rel, line: i + 1, pattern: p.name})
      if (!envFile) return
      const a = envAssignment(line)
      if (a === null || a.value.length < 16) return
      const e = shannonEntropy(a.value)
      if (e > 4.5) out.push({severity: 'warning', category: 'secret', message: `High-entropy value (${e.toFixed(1)} bits) in ${a.key}`, file: rel, line: i + 1})
    })
  }
  return out
}

function scanEnv(env: ProjectAuditOptions['env'], patterns: Patterns): ProjectFinding[] {
  const out: ProjectFinding[] = []
  for (const name of Object.keys(env).sort()) {
    const v = env[name]
    if (v === undefined || Buffer.byteLength(v) < 8 || SAFE_ENV.has(name) || /^(GITHUB|RUNNER)_/.test(name) || path.isAbsolute(v)) continue
    const p = firstPattern(patterns, v)
    if (p !== undefined) out.push({severity: 'critical', category: 'secret', message: `API key found in environment: ${name} (${p.name})`, pattern: p.name})
  }
  return out
}

function globRegex(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*'
      i++
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/** `--exclude`: a glob on the relative path (or its base name), or a directory prefix. */
export function excluded(file: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    const prefix = p.replace(/\/+$/, '')
    if (file === prefix || file.startsWith(prefix + '/')) return true
    const re = globRegex(p)
    return re.test(file) || re.test(file.slice(file.lastIndexOf('/') + 1))
  })
}

function scoreWithConfig(agent: string, git: boolean, findings: readonly ProjectFinding[]): number {
  const criticals = findings.filter((f) => f.severity === 'critical').length
  return Math.max(0, 85 + (git ? 5 : 0) + (agent === 'claude-code' || agent === 'cursor' ? 10 : 0) - 5 * criticals)
}

export function auditProject(dirArg: string, opts: ProjectAuditOptions): ProjectAudit {
  const root = path.resolve(dirArg)
  const agent = detectAgent(root)
  const findings: ProjectFinding[] = []
  if (agent !== 'generic') findings.push({severity: 'info', category: 'agent', message: `Detected agent type: ${agent}`})

  const files = walk(root)
  const counts = new Map<string, number>()
  for (const f of files) {
    const lang = LANGUAGES.find(([ext]) => f.endsWith(ext))?.[1]
    if (lang !== undefined) counts.set(lang, (counts.get(lang) ?? 0) + 1)
  }
  const languages = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([l]) => l)

  const ecosystems = ECOSYSTEMS.filter(([, names]) => names.some((n) => exists(root, n))).map(([e]) => e)
  for (const e of ecosystems) findings.push({severity: 'info', category: 'ecosystem', message: `Detected package ecosystem: ${e}`})

  let mcpServers: string[] | undefined
  const mcp = readText(path.join(root, '.mcp.json'))
  if (mcp !== null) {
    try {
      const servers = (JSON.parse(mcp) as {mcpServers?: unknown}).mcpServers
      if (servers !== null && typeof servers === 'object' && !Array.isArray(servers)) {
        mcpServers = Object.keys(servers).sort()
        findings.push({severity: 'info', category: 'config', message: `Found .mcp.json with ${mcpServers.length} server(s): ${mcpServers.join(', ')}`})
      }
    } catch {
      // an unparsable .mcp.json names no servers
    }
  }
  const git = exists(root, '.git')
  if (git) findings.push({severity: 'info', category: 'config', message: 'Git repository detected'})

  for (const d of hostileDeps(root)) {
    findings.push({severity: 'warning', category: 'tooling', message: `Guardrail-removal toolchain detected: ${d}. Consider using the hostile-model config preset.`, pattern: d})
  }
  for (const s of ABLATION_SCRIPTS) {
    if (exists(root, s)) findings.push({severity: 'warning', category: 'tooling', message: `Ablation script detected: ${s}. The model in this project may have safety guardrails removed.`, file: s})
  }

  const patterns = defaultPatterns()
  findings.push(...scanEnv(opts.env, patterns))
  findings.push(...scanFiles(root, files, patterns))

  const kept = (opts.exclude ?? []).length === 0 ? findings : findings.filter((f) => f.file === undefined || !excluded(f.file, opts.exclude!))
  const report: ProjectAuditReport = {
    directory: dirArg,
    agent_type: agent,
    languages,
    ecosystems: ecosystems.length === 0 ? null : ecosystems,
    ...(mcpServers !== undefined ? {mcp_servers: mcpServers} : {}),
    findings: kept.length === 0 ? null : kept,
    score: 0,
    score_with_config: scoreWithConfig(agent, git, kept),
  }
  return {report, configYaml: suggestedConfig(agent, ecosystems, git)}
}

/**
 * The suggested config (policy-extra §4.3): only what differs from the defaults, so it loads
 * into the same effective config as the reference's full dump; `git_protection` is turned on
 * when the project is a git repository (its default `allowed_branches` apply).
 */
function suggestedConfig(agent: string, ecosystems: readonly string[], git: boolean): string {
  const editor = agent === 'claude-code' || agent === 'cursor'
  const preset = editor ? agent : 'generic'
  const allowlist = [...DEFAULT_API_ALLOWLIST]
  for (const e of [...ecosystems].sort()) for (const d of ECOSYSTEM_DOMAINS[e]!) if (!allowlist.includes(d)) allowlist.push(d)
  const config: Record<string, unknown> = {
    api_allowlist: allowlist,
    fetch_proxy: {
      monitoring: {
        entropy_threshold: editor ? 5.0 : 5.5,
        max_url_length: 4096,
        max_requests_per_minute: 120,
        ...(editor ? {blocklist: [...DEFAULT_BLOCKLIST, '*.webhook.site', '*.pipedream.net']} : {}),
      },
    },
    ...(editor ? {response_scanning: {action: 'block'}} : {}),
    ...(git ? {git_protection: {enabled: true}} : {}),
  }
  const header = [
    ' Pipelock config — generated by pipelock audit',
    ` Base preset: ${preset}`,
    ...(ecosystems.length > 0 ? [` Added domains for: ${[...ecosystems].sort().join(', ')}`] : []),
    ...(git ? [' Git protection: enabled (repository detected)'] : []),
    ' Keys not listed take their defaults (docs/config.md).',
    ' Review and rename to pipelock.yaml when ready.',
  ].join('\n')
  const doc = new Document(config)
  doc.commentBefore = header
  return doc.toString({lineWidth: 0, indentSeq: true})
}

const SEVERITY_LABEL: Record<ProjectSeverity, string> = {critical: '  [CRITICAL] ', warning: '  [WARNING]  ', info: '  [INFO]     '}

/** The text report (stderr) of policy-extra §4.4, without the trailing config part. */
export function renderProjectAudit(r: ProjectAuditReport): string {
  const lines = ['Pipelock Security Audit', '=======================', '', `Directory:  ${r.directory}`, `Agent type: ${r.agent_type}`]
  if (r.languages.length > 0) lines.push(`Languages:  ${r.languages.slice(0, 5).join(', ')}${r.languages.length > 5 ? ` (+${r.languages.length - 5} more)` : ''}`)
  if (r.ecosystems !== null) lines.push(`Ecosystems: ${r.ecosystems.join(', ')}`)
  lines.push('', 'Findings:', '')
  const f = r.findings ?? []
  if (f.length === 0) lines.push('  No findings.')
  for (const x of f) lines.push(`${SEVERITY_LABEL[x.severity]}${x.message}${x.file !== undefined ? ` (${x.file}${x.line !== undefined ? `:${x.line}` : ''})` : ''}`)
  const count = (s: ProjectSeverity): number => f.filter((x) => x.severity === s).length
  lines.push('', `Security Score: ${r.score}/100 (unprotected)`, `  With suggested config: ${r.score_with_config}/100`, `  Criticals: ${count('critical')}  Warnings: ${count('warning')}  Info: ${count('info')}`)
  return lines.join('\n') + '\n'
}
