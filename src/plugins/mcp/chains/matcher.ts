/** `tool_chain_detection` (spec mcp.md §9.2): per-session windows of classified calls, ordered patterns with gaps. */
import {BUILTIN_CHAIN_PATTERNS} from '../../config/index.js'
import {ToolClassifier, type ChainCategory} from './classify.js'

export type ChainSeverity = 'medium' | 'high' | 'critical'

export interface ChainPattern {
  readonly name: string
  readonly sequence: readonly ChainCategory[]
  readonly severity: ChainSeverity
  readonly action: 'warn' | 'block'
}

/** Built-ins, all `warn` (§9.2; the section action does not apply to them, quirk Q4 replicated). The table lives with the config's pattern catalogue, which names them in `pattern_overrides`. */
export {BUILTIN_CHAIN_PATTERNS}

export interface ChainConfig {
  readonly action: string
  readonly window_size: number
  readonly window_seconds: number
  readonly max_gap: number
  readonly tool_categories: Readonly<Record<string, readonly string[]>>
  readonly pattern_overrides: Readonly<Record<string, string>>
  readonly custom_patterns: ReadonlyArray<{name: string; sequence: readonly string[]; severity: string; action?: string}>
}

export interface ChainMatch {
  readonly pattern: string
  readonly severity: ChainSeverity
  readonly action: 'warn' | 'block'
  /**
   * Set when the chain was already in the window before this call (records are not consumed,
   * §9.2): how long, at most, it stays there — `seconds` until its first step is older than
   * `window_seconds`, `calls` more classified calls until `window_size` pushes it out.
   */
  readonly earlier?: {readonly seconds: number; readonly calls: number}
}

interface CallRecord {
  readonly category: ChainCategory
  readonly name: string
  readonly at: number
}

const SEVERITY_RANK: Readonly<Record<ChainSeverity, number>> = {medium: 1, high: 2, critical: 3}

export class ChainDetector {
  readonly patterns: readonly ChainPattern[]
  private readonly classifier: ToolClassifier
  private readonly windows = new Map<string, CallRecord[]>()
  private readonly windowSize: number
  private readonly windowMs: number
  private readonly maxGap: number

  constructor(cfg: ChainConfig) {
    const over = (name: string, fallback: 'warn' | 'block'): 'warn' | 'block' => {
      const o = cfg.pattern_overrides[name]
      return o === 'warn' || o === 'block' ? o : fallback
    }
    const sectionAction = cfg.action === 'block' ? 'block' : 'warn'
    this.patterns = [
      ...BUILTIN_CHAIN_PATTERNS.map((p) => ({...p, action: over(p.name, 'warn')})),
      ...cfg.custom_patterns.map((p) => ({
        name: p.name,
        sequence: p.sequence as ChainCategory[],
        severity: p.severity as ChainSeverity,
        action: over(p.name, p.action === 'warn' || p.action === 'block' ? p.action : sectionAction),
      })),
    ]
    this.classifier = new ToolClassifier(cfg.tool_categories)
    this.windowSize = cfg.window_size > 0 ? cfg.window_size : 20
    this.windowMs = (cfg.window_seconds > 0 ? cfg.window_seconds : 60) * 1000
    this.maxGap = cfg.max_gap < 0 ? 0 : cfg.max_gap
  }

  /** Records one `tools/call` for `session` and returns the strongest chain in the window, if any. */
  observe(session: string, toolName: string, rawMessage: string, nowMs: number): ChainMatch | null {
    const category = this.classifier.classify(toolName, rawMessage)
    if (category === null) return null
    let w = (this.windows.get(session) ?? []).filter((r) => nowMs - r.at <= this.windowMs)
    w.push({category, name: toolName, at: nowMs})
    if (w.length > this.windowSize) w = w.slice(w.length - this.windowSize)
    this.windows.set(session, w)
    let best: ChainPattern | null = null
    for (const p of this.patterns) {
      if (!this.matches(p.sequence, w)) continue
      if (best === null) best = p
      else {
        const ds = SEVERITY_RANK[p.severity] - SEVERITY_RANK[best.severity]
        if (ds > 0 || (ds === 0 && p.action === 'block' && best.action === 'warn')) best = p
      }
    }
    if (best === null) return null
    const match = {pattern: best.name, severity: best.severity, action: best.action}
    if (!this.matches(best.sequence, w.slice(0, -1))) return match
    // The chain stays until the latest record a match can start at leaves the window.
    const last = this.starts(best.sequence, w).at(-1)!
    const seconds = Math.max(1, Math.ceil((w[last]!.at + this.windowMs - nowMs) / 1000))
    return {...match, earlier: {seconds, calls: Math.max(0, this.windowSize - (w.length - last))}}
  }

  private matches(seq: readonly ChainCategory[], w: readonly CallRecord[]): boolean {
    return this.starts(seq, w, true).length > 0
  }

  /** The indices of `w` a match of `seq` can start at (`first`: stop at the first one). */
  private starts(seq: readonly ChainCategory[], w: readonly CallRecord[], first = false): number[] {
    const found: number[] = []
    for (let start = 0; start < w.length; start++) {
      if (w[start]!.category !== seq[0]) continue
      let step = 1
      let gap = 0
      for (let i = start + 1; i < w.length && step < seq.length; i++) {
        if (w[i]!.category === seq[step]) {
          step++
          gap = 0
        } else if (++gap > this.maxGap) {
          break
        }
      }
      if (step === seq.length) {
        found.push(start)
        if (first) break
      }
    }
    return found
  }
}
