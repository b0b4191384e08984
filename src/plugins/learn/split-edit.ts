import {isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq, type Document} from 'yaml'
import {PipelockError} from '../errors/index.js'

// learn-lifecycle §4.3–§4.4: split and pin edit one rule's `selector.paths[].normalization` on
// the YAML node tree (comments and layout of hand-written files survive). Both the bare-body
// layout (`rules:` at the top) and — the §10.5 decision — the signed envelope compile and
// ratify write (`body.rules`) are accepted.

export type CandidateLayout = 'envelope' | 'bare'

export interface EditableCandidate {
  doc: Document
  layout: CandidateLayout
  rules: YAMLSeq
}

function invalid(prefix: string, detail: string): PipelockError {
  return new PipelockError('CANDIDATE_INVALID', `${prefix}: learn: invalid candidate file: ${detail}`)
}

export function openEditable(text: string, prefix: string): EditableCandidate {
  const doc = parseDocument(text, {uniqueKeys: true})
  if (doc.errors.length > 0) throw invalid(prefix, `yaml parse: ${doc.errors[0]?.message ?? ''}`)
  if (!isMap(doc.contents)) throw invalid(prefix, 'candidate has no top-level mapping')
  const top = doc.contents
  const body = top.get('body', true)
  if (isMap(body) && top.has('signature')) {
    const rules = body.get('rules', true)
    if (!isSeq(rules)) throw invalid(prefix, 'candidate has no rules sequence')
    return {doc, layout: 'envelope', rules}
  }
  const rules = top.get('rules', true)
  if (!isSeq(rules)) throw invalid(prefix, 'candidate has no rules sequence')
  return {doc, layout: 'bare', rules}
}

function scalarText(v: unknown): string | undefined {
  if (isScalar(v)) return v.value === null || v.value === undefined ? undefined : String(v.value)
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined
}

export function findRule(c: EditableCandidate, ruleId: string, prefix: string): YAMLMap {
  for (const item of c.rules.items) {
    if (isMap(item) && scalarText(item.get('rule_id', true)) === ruleId) return item
  }
  throw ruleNotFound(ruleId, prefix)
}

/** `findRule`'s refusal when no rule has the id. */
export function ruleNotFound(ruleId: string, prefix: string): PipelockError {
  return new PipelockError('RULE_NOT_FOUND', `${prefix}: learn: rule not found in candidate: ${JSON.stringify(ruleId)}`)
}

/** §4.3 segment literal grammar; undefined when valid, else the detail. */
export function segmentLiteralProblem(s: string): string | undefined {
  if (s === '') return 'segment is empty'
  if (Buffer.byteLength(s, 'utf8') > 256) return 'segment longer than 256 bytes'
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) return 'segment contains a control byte'
  const bad = /[/*?[\]]/.exec(s)
  if (bad !== null) return `segment contains ${JSON.stringify(bad[0])}`
  return undefined
}

function pathMaps(rule: YAMLMap): YAMLMap[] {
  const sel = rule.get('selector', true)
  if (!isMap(sel)) return []
  const paths = sel.get('paths', true)
  if (!isSeq(paths)) return []
  return paths.items.filter((p): p is YAMLMap => isMap(p))
}

function normalizationOf(p: YAMLMap): YAMLMap | undefined {
  const n = p.get('normalization', true)
  return isMap(n) ? n : undefined
}

/** Fail closed before mutating: every non-empty literal in retained/pinned lists must be valid. */
export function validateRuleLiterals(rule: YAMLMap, prefix: string, withLocation: boolean): void {
  pathMaps(rule).forEach((p, pi) => {
    const n = normalizationOf(p)
    if (n === undefined) return
    for (const list of ['retained_segments', 'pinned_segments']) {
      const seq = n.get(list, true)
      if (!isSeq(seq)) continue
      seq.items.forEach((e, ei) => {
        if (!isMap(e)) return
        const v = scalarText(e.get('value', true))
        if (v === undefined || v === '') return
        const problem = segmentLiteralProblem(v)
        if (problem !== undefined) {
          throw new PipelockError('SEGMENT_INVALID', `${prefix}: learn: invalid segment literal: ${problem}${withLocation ? ` (path ${pi}, ${list}[${ei}])` : ''}`)
        }
      })
    }
  })
}

function intOf(v: unknown): number | undefined {
  const t = scalarText(v)
  return t !== undefined && /^-?\d+$/.test(t) ? Number(t) : undefined
}

/** Rebuilds a path value from its segment lists: retained, then positive-index pins, then collapsed. */
function rebuildValue(p: YAMLMap, n: YAMLMap): void {
  const byIndex = new Map<number, string>()
  let max = 0
  const take = (list: string, literal: boolean, positiveOnly: boolean): void => {
    const seq = n.get(list, true)
    if (!isSeq(seq)) return
    for (const e of seq.items) {
      if (!isMap(e)) continue
      const i = intOf(e.get('index', true))
      if (i === undefined || (positiveOnly && i <= 0) || i <= 0) continue
      max = Math.max(max, i)
      if (byIndex.has(i)) continue
      const v = literal ? (scalarText(e.get('value', true)) ?? '') : ''
      byIndex.set(i, literal && v !== '' && segmentLiteralProblem(v) === undefined ? v : '*')
    }
  }
  take('retained_segments', true, false)
  take('pinned_segments', true, true)
  take('collapsed_segments', false, false)
  if (max === 0) return
  let value = ''
  for (let i = 1; i <= max; i++) value += '/' + (byIndex.get(i) ?? '*')
  p.set('value', value)
}

/**
 * A demoted segment that had no literal to return to (a collapsed segment records how many values
 * it stood for, not one of them): the rebuilt value keeps a `*` there, which the gate then reads
 * as a literal asterisk, since only a segment listed as collapsed is a wildcard.
 */
export interface LiteralAsterisk {
  readonly path: string
  readonly index: number
  readonly distinctValues?: number
}

/** §4.3 step 3: demote collapsed segments (index N, or all for 0) into retained ones; `stars` gets each one left as a literal `*`. */
export function splitRule(rule: YAMLMap, index: number, stars: LiteralAsterisk[] = []): number {
  let moved = 0
  for (const p of pathMaps(rule)) {
    const n = normalizationOf(p)
    if (n === undefined) continue
    const collapsed = n.get('collapsed_segments', true)
    if (!isSeq(collapsed)) continue
    const existing: unknown = n.get('retained_segments', true)
    let retained: YAMLSeq | undefined = isSeq(existing) ? existing : undefined
    const keep: unknown[] = []
    const move: YAMLMap[] = []
    for (const e of collapsed.items) {
      if (isMap(e) && (index === 0 || intOf(e.get('index', true)) === index)) move.push(e)
      else keep.push(e)
    }
    if (move.length > 0) {
      if (retained === undefined) {
        retained = new YAMLSeq()
        n.set('retained_segments', retained)
      }
      for (const e of move) {
        e.set('reason', 'operator_split')
        retained.items.push(e)
      }
      collapsed.items = keep
      moved += move.length
    }
    rebuildValue(p, n)
    const path = scalarText(p.get('value', true)) ?? ''
    for (const e of move) {
      const i = intOf(e.get('index', true))
      const v = scalarText(e.get('value', true)) ?? ''
      if (i === undefined || i <= 0 || (v !== '' && segmentLiteralProblem(v) === undefined)) continue
      if (path.split('/')[i] !== '*') continue
      const d = intOf(e.get('distinct_values', true))
      stars.push({path, index: i, ...(d === undefined ? {} : {distinctValues: d})})
    }
  }
  return moved
}

/** The collapsed segments of a rule, as `<index> (<path value>)`, for a split that named none of them. */
export function collapsedSegmentList(rule: YAMLMap): string[] {
  const out: string[] = []
  for (const p of pathMaps(rule)) {
    const collapsed = normalizationOf(p)?.get('collapsed_segments', true)
    if (!isSeq(collapsed)) continue
    const value = scalarText(p.get('value', true)) ?? ''
    for (const e of collapsed.items) {
      const i = isMap(e) ? intOf(e.get('index', true)) : undefined
      if (i !== undefined) out.push(`${i} (${value})`)
    }
  }
  return out
}

/** §4.4: add `{value, reason: operator_pin}` to every path's pinned list that lacks it; returns paths changed. */
/** `changed`: paths the pin was added to; `normalized`: paths with a normalization block (0: the rule has nothing a pin applies to). */
export function pinRule(rule: YAMLMap, segment: string): {changed: number; normalized: number} {
  let changed = 0
  let normalized = 0
  for (const p of pathMaps(rule)) {
    const n = normalizationOf(p)
    if (n === undefined) continue
    normalized++
    const existing: unknown = n.get('pinned_segments', true)
    let seq: YAMLSeq
    if (isSeq(existing)) seq = existing
    else {
      seq = new YAMLSeq()
      n.set('pinned_segments', seq)
    }
    if (seq.items.some((e) => isMap(e) && scalarText(e.get('value', true)) === segment)) continue
    const entry = new YAMLMap()
    entry.set('value', segment)
    entry.set('reason', 'operator_pin')
    seq.items.push(entry)
    changed++
  }
  return {changed, normalized}
}
