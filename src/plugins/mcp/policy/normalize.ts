/**
 * Shell de-obfuscation views for tool-call policy matching (spec mcp.md §8.2): Unicode views,
 * shell escapes, quoting, command substitution of echo/printf, variable assignment and expansion,
 * IFS, brace expansion — so `r\m -rf /`, `rm${IFS}-rf /`, `{rm,-rf,/}`, `x=rm;$x -rf /` all read
 * as `rm -rf /`. Every regex is RE2 (linear time over untrusted arguments).
 */
import RE2 from 're2'
import {mapExoticWhitespace, replaceInvisibleWithSpace, type Normalizer} from '../../scanner/index.js'

/** Cyrillic command letters mapped before the generic confusable table (which maps в→v, н→h). */
const POLICY_PRE: Readonly<Record<string, string>> = {'у': 'u', 'У': 'U', 'в': 'b', 'В': 'B', 'н': 'n', 'Н': 'N'}

export function policyPre(s: string): string {
  return s.replace(/[уУвВнН]/g, (c) => POLICY_PRE[c]!)
}

export interface PolicyRegexes {
  readonly hex: RE2
  readonly oct: RE2
  readonly backtick: RE2
  readonly esc: RE2
  readonly positional: RE2
  readonly cmdsub: RE2
  readonly assign: RE2
  readonly homeslash: RE2
  readonly brace: RE2
  readonly ifs: RE2
  readonly quotes: RE2
  readonly ws: RE2
}

/** Compiled once per policy (not per call). */
export function compilePolicyRegexes(): PolicyRegexes {
  const g = (src: string) => new RE2(src, 'gu')
  return {
    hex: g('\\\\x([0-9a-fA-F]{2})'),
    oct: g('\\\\([0-7]{1,3})'),
    backtick: g('`\\s*(?:echo|printf)\\s+(?:[\'"]?%\\S*[\'"]?\\s+)*[\'"]?(\\w+)[\'"]?\\s*`'),
    esc: g('\\\\(\\w)'),
    positional: g('\\$\\{[@*]\\}|\\$[@*]'),
    cmdsub: g('\\$\\(\\s*(?:echo|printf)\\s+(?:[\'"]?%\\S*[\'"]?\\s+)*[\'"]?(\\w+)[\'"]?\\s*\\)'),
    assign: g('(\\w+)=([^\\s;&|]+)\\s*[;&|]'),
    homeslash: g('\\$\\{(?:HOME|PWD|OLDPWD)(?::0:1|::1)\\}'),
    brace: g('\\{([\\w./:~@=*?+-]*(?:,[\\w./:~@=*?+-]*)+)\\}'),
    ifs: g('\\$\\{!?IFS(?:[^a-zA-Z0-9_}][^}]*)?\\}|\\$IFS\\b'),
    quotes: g('\\$\'|\\$"|\'|"|`'),
    ws: g('\\s+'),
  }
}

/** ForPolicy: ForMatching, but invisible characters become spaces instead of being dropped. */
export function forPolicy(n: Normalizer, s: string): string {
  return n.forMatching(replaceInvisibleWithSpace(s))
}

export type UnicodeView = 'matching' | 'policy'

function escapeRe(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')
}

/** Step 8: command substitution and variable expansion, repeated until stable (≤ 10 rounds). */
function expandShell(r: PolicyRegexes, input: string): string {
  let s = input
  for (let round = 0; round < 10; round++) {
    const before = s
    s = s.replace(r.cmdsub, (_m, w: string) => w)
    const vars: Array<[string, string]> = []
    r.assign.lastIndex = 0
    for (const m of s.matchAll(r.assign)) {
      vars.push([m[1]!, m[2]!])
      if (vars.length >= 10) break
    }
    const ifs = vars.find(([k, v]) => k === 'IFS' && [...v].length === 1)
    for (const [name, rawValue] of vars) {
      const value = ifs !== undefined && name !== 'IFS' ? rawValue.split(ifs[1]).join('') : rawValue
      const ref = new RE2(`\\$\\{${escapeRe(name)}\\}|\\$${escapeRe(name)}\\b`, 'gu')
      s = s.replace(ref, () => value)
      s = s.split('${!' + name).join('${' + value)
    }
    if (s === before) break
  }
  return s
}

/** `norm(s, uni, pre)` (§8.2 steps 1–12): the tokens of one argument string. */
export function normalizeArgument(r: PolicyRegexes, n: Normalizer, s: string, uni: UnicodeView, pre: boolean): string[] {
  let t = pre ? policyPre(s) : s
  t = uni === 'matching' ? n.forMatching(t) : forPolicy(n, t)
  t = t.replace(r.hex, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
  t = t.replace(r.oct, (m: string, o: string) => {
    const v = parseInt(o, 8)
    return v <= 255 ? String.fromCharCode(v) : m
  })
  t = t.replace(r.backtick, (_m, w: string) => w)
  t = t.replace(r.quotes, '')
  t = t.replace(r.esc, (_m, w: string) => w)
  t = t.replace(r.positional, '')
  t = expandShell(r, t)
  t = t.replace(r.homeslash, '/')
  t = t.replace(r.brace, (_m, inner: string) => inner.split(',').join(' '))
  t = t.replace(r.ifs, ' ')
  return mapExoticWhitespace(t).split(r.ws).filter((x) => x !== '')
}
