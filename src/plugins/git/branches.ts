/**
 * `git_protection.allowed_branches` (containment.md §4.2): which branch names a push may update.
 * Patterns are globs where `*` and `?` never cross `/` and `[...]` is a class; a config with the
 * section enabled and no patterns gets the reference's defaults.
 */
import type {PipelockConfig} from '../config/index.js'

export const DEFAULT_ALLOWED_BRANCHES: readonly string[] = ['feature/*', 'fix/*', 'main', 'master']

/** The patterns in force: the configured ones, or the defaults when the list is empty. */
export function allowedBranches(c: PipelockConfig): readonly string[] {
  const p = c.git_protection.allowed_branches
  return p.length === 0 ? DEFAULT_ALLOWED_BRANCHES : p
}

/** A glob as a RegExp (null when the pattern is malformed: an unclosed class or a trailing `\`). */
export function branchGlob(pattern: string): RegExp | null {
  let re = '^'
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!
    if (ch === '*') re += '[^/]*'
    else if (ch === '?') re += '[^/]'
    else if (ch === '\\') {
      if (i + 1 >= pattern.length) return null
      re += escapeRe(pattern[++i]!)
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2)
      if (end < 0) return null
      let body = pattern.slice(i + 1, end)
      if (body.startsWith('^') || body.startsWith('!')) body = '^' + body.slice(1)
      re += `[${body.replace(/\\/g, '\\\\')}]`
      i = end
    } else re += escapeRe(ch)
  }
  try {
    return new RegExp(re + '$')
  } catch {
    return null
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/** The reason a branch is refused, or null when a pattern allows it (no patterns → allowed). */
export function branchRefusal(branch: string, patterns: readonly string[]): string | null {
  if (patterns.length === 0) return null
  for (const p of patterns) if (branchGlob(p)?.test(branch) === true) return null
  return `branch "${branch}" does not match any allowed pattern: [${patterns.join(', ')}]`
}

/** `refs/heads/<b>` → `<b>`; other refs (tags, notes) → null (branch rules do not apply). */
export function branchOfRef(ref: string): string | null {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null
}
