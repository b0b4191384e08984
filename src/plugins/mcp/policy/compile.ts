/**
 * `mcp_tool_policy` (spec mcp.md §8): compiled rules and the matcher over three normalisation
 * views (primary: Cyrillic pre-map + ForMatching; alt: pre-map + ForPolicy; baseline: ForMatching).
 */
import RE2 from 're2'
import type {JsonValue} from '../../canonical/index.js'
import type {Normalizer} from '../../scanner/index.js'
import {MAX_EXTRACT_DEPTH, sortedKeys, valueStrings} from '../jsonrpc/extract.js'
import {isObject} from '../jsonrpc/frame.js'
import type {ToolPolicyRuleSpec} from '../../config/index.js'
import {compilePolicyRegexes, normalizeArgument, policyPre, type PolicyRegexes, type UnicodeView} from './normalize.js'
import {actionRank, stricter} from './strictness.js'

export interface RedirectProfile {
  readonly exec: readonly string[]
  readonly reason?: string
  readonly preserve_argv?: boolean
  readonly match_abs_path?: boolean
}

export interface ToolPolicyConfig {
  readonly action: string
  readonly rules: readonly ToolPolicyRuleSpec[]
  readonly redirect_profiles: Readonly<Record<string, RedirectProfile>>
}

interface CompiledRule {
  readonly name: string
  readonly tool: RE2
  /** `arg_pattern` (null without one) and `arg_key`: compiled on the rule's first tool-name match. */
  readonly argPattern: string | null
  readonly argKeyPattern: string | null
  readonly action: string
  readonly redirectProfile: string
}

/** A rule's argument regexes, compiled once it is first needed. */
interface ArgRegexes {
  readonly args: RE2
  readonly argKey: RE2 | null
}

export interface PolicyVerdict {
  /** Matching rule names, in rule order. */
  readonly rules: readonly string[]
  /** Strictest action of the matching rules ('' when none matched). */
  readonly action: string
  /** Redirect profile, only when the winning action is `redirect`. */
  readonly redirectProfile: string
  /** The rule that selected the redirect profile (containment.md §6 fix Q-R1), '' otherwise. */
  readonly redirectRule?: string
}

export const NO_POLICY_MATCH: PolicyVerdict = Object.freeze({rules: [], action: '', redirectProfile: ''})

/** Token pairs are tried only for views of at most this many tokens (§8.2 (c)). */
const PAIR_TOKEN_LIMIT = 64

interface View {
  readonly tokens: readonly string[]
  readonly joined: string
}

export class ToolPolicy {
  private readonly rules: readonly CompiledRule[]
  /**
   * What only a tool-name match needs is compiled on the first one (bench: mcp, RSS per wrap): the
   * argument regexes of each rule and the twelve de-obfuscation regexes. A server whose tools no
   * rule names (most: the built-ins name shells) never pays for them — ≈ 9 KiB of RE2 program
   * each, 29 with the built-in rules. Rules are validated by the config loader (§14.1), so a late
   * compile cannot fail where the eager one did not.
   */
  private regexCache: PolicyRegexes | null = null
  /** Each rule's argument regexes, compiled by its first tool-name match and kept. */
  private readonly argRegexes = new Map<CompiledRule, ArgRegexes>()

  /** The named redirect profiles (§8.5), looked up when a redirect runs. */
  readonly redirectProfiles: Readonly<Record<string, RedirectProfile>>

  constructor(cfg: ToolPolicyConfig, private readonly normalizer: Normalizer) {
    this.redirectProfiles = cfg.redirect_profiles
    this.rules = cfg.rules.map((r) => ({
      name: r.name,
      tool: new RE2(r.tool_pattern, 'u'),
      argPattern: r.arg_pattern ? r.arg_pattern : null,
      argKeyPattern: r.arg_key ? r.arg_key : null,
      action: r.action && r.action !== '' ? r.action : cfg.action,
      redirectProfile: r.redirect_profile ?? '',
    }))
  }

  private get regexes(): PolicyRegexes {
    return (this.regexCache ??= compilePolicyRegexes())
  }

  private argRegexesOf(rule: CompiledRule, argPattern: string): ArgRegexes {
    let r = this.argRegexes.get(rule)
    if (r === undefined) {
      // arg_key ignores case: a server that decodes arguments into a struct (Go's encoding/json)
      // reads "Path" or "PATH" as the field "path", so a rule naming path must see them too — and
      // {"path":"/tmp/x","Path":"/etc/shadow"} reaches such a server as /etc/shadow.
      r = {args: new RE2(argPattern, 'u'), argKey: rule.argKeyPattern === null ? null : new RE2(rule.argKeyPattern, 'iu')}
      this.argRegexes.set(rule, r)
    }
    return r
  }

  get ruleCount(): number {
    return this.rules.length
  }

  /** Checks one `tools/call` (name non-empty). `args` undefined = absent or null. */
  check(toolName: string, args: JsonValue | undefined): PolicyVerdict {
    if (toolName === '') return NO_POLICY_MATCH
    const n = this.normalizer
    const nameP = n.forMatching(policyPre(toolName))
    const nameB = n.forMatching(toolName)
    const viewCache = new Map<string, View[]>()
    const names: string[] = []
    let action = ''
    let redirectProfile = ''
    let redirectRule = ''
    for (const rule of this.rules) {
      if (!rule.tool.test(nameP) && !rule.tool.test(nameB)) continue
      if (rule.argPattern !== null) {
        if (args === undefined) continue
        const {args: argRe, argKey} = this.argRegexesOf(rule, rule.argPattern)
        const key = argKey === null ? '' : argKey.source
        let views = viewCache.get(key)
        if (views === undefined) {
          views = this.views(argKey === null ? valueStrings(args) : keyedStrings(args, argKey))
          viewCache.set(key, views)
        }
        if (!views.some((v) => viewMatches(argRe, v))) continue
      }
      names.push(rule.name)
      if (rule.action === 'redirect' && actionRank(action) < actionRank('redirect')) {
        redirectProfile = rule.redirectProfile
        redirectRule = rule.name
      }
      action = stricter(action, rule.action)
    }
    return action === 'redirect' ? {rules: names, action, redirectProfile, redirectRule} : {rules: names, action, redirectProfile: ''}
  }

  private views(strings: readonly string[]): View[] {
    const specs: Array<[UnicodeView, boolean]> = [['matching', true], ['policy', true], ['matching', false]]
    return specs.map(([uni, pre]) => {
      const tokens = strings.flatMap((s) => normalizeArgument(this.regexes, this.normalizer, s, uni, pre))
      return {tokens, joined: tokens.join(' ')}
    })
  }
}

function viewMatches(re: RE2, v: View): boolean {
  if (v.tokens.length === 0) return false
  if (re.test(v.joined)) return true
  if (v.tokens.some((t) => re.test(t))) return true
  if (v.tokens.length > PAIR_TOKEN_LIMIT) return false
  for (let i = 0; i < v.tokens.length; i++) {
    for (let j = 0; j < v.tokens.length; j++) {
      if (i !== j && re.test(v.tokens[i] + ' ' + v.tokens[j])) return true
    }
  }
  return false
}

/** String leaves under top-level argument keys matching `arg_key` (sorted keys, every level the frame parser accepts). */
function keyedStrings(args: JsonValue, argKey: RE2): string[] {
  if (!isObject(args)) return []
  const out: string[] = []
  for (const k of sortedKeys(args)) {
    if (argKey.test(k)) leaves(args.get(k), 0, out)
  }
  return out
}

function leaves(v: JsonValue | undefined, depth: number, out: string[]): void {
  if (depth > MAX_EXTRACT_DEPTH || v === undefined || v === null) return
  if (typeof v === 'string') out.push(v)
  else if (Array.isArray(v)) for (const x of v) leaves(x, depth + 1, out)
  else if (isObject(v)) for (const k of sortedKeys(v)) leaves(v.get(k), depth + 1, out)
}
