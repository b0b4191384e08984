/** Tool-call classification for chain detection (spec mcp.md §9.1). */
import RE2 from 're2'
import type {ChainCategory} from '../../config/index.js'

export type {ChainCategory}

/** Priority order for keyword classification and operator categories. */
export const CATEGORY_PRIORITY: readonly ChainCategory[] = ['exec', 'persist', 'env', 'network', 'write', 'read', 'list']

const KEYWORDS: Readonly<Record<ChainCategory, readonly string[]>> = {
  read: ['read', 'get', 'view', 'cat', 'head', 'tail', 'open', 'load', 'retrieve', 'access'],
  write: ['write', 'create', 'save', 'update', 'edit', 'modify', 'put', 'append', 'insert'],
  exec: ['shell', 'bash', 'run', 'execute', 'cmd', 'spawn', 'eval', 'sh', 'zsh', 'powershell'],
  network: ['fetch', 'curl', 'wget', 'http', 'request', 'send', 'post', 'upload', 'download', 'api'],
  list: ['list', 'ls', 'dir', 'find', 'glob', 'search', 'scan', 'enumerate', 'walk'],
  env: ['env', 'environ', 'getenv', 'secret', 'credential', 'config', 'token', 'key', 'password'],
  persist: ['crontab', 'cron', 'systemctl', 'systemd', 'launchd', 'launchctl', 'autostart'],
}

const READ_INDICATORS = new Set(['status', 'list', 'show', 'info', 'describe', 'get', 'view', 'check', 'inspect', 'cat', 'log', 'logs', 'read', 'query', 'monitor'])

const EXEC_PERSIST = '(?i)(\\bcrontab\\s+(-\\w+\\s+\\S+\\s+)*-e\\b|\\bcrontab\\s+(-\\w+\\s+\\S+\\s+)*[^-\\s]|\\|\\s*crontab\\b|\\bsystemctl\\s+(-{1,2}\\w+\\s+)*(enable|daemon-reload)\\b|\\blaunchctl\\s+(load|enable)\\b)'
const WRITE_PERSIST = '(?i)(/var/spool/cron|/etc/cron\\b|/etc/cron\\.d/|/etc/crontab\\b|/etc/systemd/|/lib/systemd/|\\.config/systemd/user/|/etc/init\\.d/|/Library/LaunchDaemons/|/Library/LaunchAgents/|~/Library/LaunchAgents/)'

/** Go `path.Match`: `*` (no `/`), `?`, `[...]` with ranges and `^` negation, `\` escapes. */
export function globMatch(pattern: string, name: string): boolean {
  const p = [...pattern]
  const s = [...name]
  const rec = (pi: number, si: number): boolean => {
    while (pi < p.length) {
      const c = p[pi]!
      if (c === '*') {
        for (let k = si; k <= s.length; k++) {
          if (rec(pi + 1, k)) return true
          if (k < s.length && s[k] === '/') return false
        }
        return false
      }
      if (si >= s.length) return false
      if (c === '?') {
        if (s[si] === '/') return false
      } else if (c === '[') {
        let j = pi + 1
        let negate = false
        if (p[j] === '^') {
          negate = true
          j++
        }
        let matched = false
        let first = true
        while (j < p.length && (p[j] !== ']' || first)) {
          first = false
          let lo = p[j]!
          if (lo === '\\') lo = p[++j] ?? ''
          let hi = lo
          if (p[j + 1] === '-' && p[j + 2] !== undefined && p[j + 2] !== ']') {
            hi = p[j + 2] === '\\' ? (p[j + 3] ?? '') : p[j + 2]!
            j += p[j + 2] === '\\' ? 3 : 2
          }
          const ch = s[si]!
          if (ch >= lo && ch <= hi) matched = true
          j++
        }
        if (j >= p.length) return false // malformed class: no match
        if (matched === negate) return false
        pi = j
      } else {
        const lit = c === '\\' ? p[++pi] : c
        if (lit !== s[si]) return false
      }
      pi++
      si++
    }
    return si === s.length
  }
  return rec(0, 0)
}

export class ToolClassifier {
  private readonly execPersist = new RE2(EXEC_PERSIST, 'u')
  private readonly writePersist = new RE2(WRITE_PERSIST, 'u')

  constructor(private readonly toolCategories: Readonly<Record<string, readonly string[]>>) {}

  /** Category of a call; null = unknown (ignored). `hint` is the whole raw JSON-RPC message. */
  classify(name: string, hint: string): ChainCategory | null {
    const base = this.byName(name)
    if (base === 'exec' && this.execPersist.test(hint)) return 'persist'
    if (base === 'write' && this.writePersist.test(hint)) return 'persist'
    return base
  }

  private byName(name: string): ChainCategory | null {
    // [replicated] only the built-in category names count in tool_categories.
    for (const cat of CATEGORY_PRIORITY) if ((this.toolCategories[cat] ?? []).includes(name)) return cat
    for (const cat of CATEGORY_PRIORITY) if ((this.toolCategories[cat] ?? []).some((g) => globMatch(g, name))) return cat
    const segments = name.split('__').join('_').split(/[_.-]/).map((x) => x.toLowerCase()).filter((x) => x !== '')
    const readish = segments.some((x) => READ_INDICATORS.has(x))
    for (const cat of CATEGORY_PRIORITY) {
      if (cat === 'persist' && readish) continue
      if (KEYWORDS[cat].some((k) => segments.includes(k))) return cat
    }
    return null
  }
}
