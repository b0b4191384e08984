import {lstatSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {compareUtf8} from '../canonical/index.js'
import {jsonParseReason, osErrorReason, PipelockError} from '../errors/index.js'
import {writeFileAtomic} from '../signing/index.js'
import {checkOutputPath} from './candidate-file.js'
import {formatFixed} from '../canonical/index.js'
import {notShadowReport} from './shadow-report-kind.js'

// learn-lifecycle §3.6: `learn diff A.json B.json` — per-rule deltas between two shadow reports.

export interface ShadowReportSummary {
  contractHash: string
  totalRecords: number
  newBlocks: number
  quarantines: number
  rules: Map<string, {evaluations: number; newBlocks: number; newAllows: number; rate: number}>
}

export interface DiffRow {
  ruleId: string
  evaluationsDelta: number
  newBlocksDelta: number
  newAllowsDelta: number
  rateDelta: number
}

export interface DiffResult {
  inputs: [string, string]
  dest?: string
  firstContractHash: string
  secondContractHash: string
  recordsDelta: number
  newBlocksDelta: number
  quarantineDelta: number
  rows: DiffRow[]
  markdown: string
}

function fail(message: string): PipelockError {
  return new PipelockError('SHADOW_INPUT_INVALID', message)
}

function num(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0
  if (typeof v !== 'number') throw new Error(`${field}: expected number, got ${typeof v}`)
  return v
}

function text(v: unknown, field: string): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw new Error(`${field}: expected string, got ${typeof v}`)
  return v
}

/** Lenient decode (unknown keys ignored, wrong types refused) of a shadow.json report. */
export function decodeShadowReport(raw: string): ShadowReportSummary {
  const o = JSON.parse(raw) as unknown
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('report is not a JSON object')
  const r = o as Record<string, unknown>
  const rules = new Map<string, {evaluations: number; newBlocks: number; newAllows: number; rate: number}>()
  if (r.rules !== undefined && r.rules !== null) {
    if (!Array.isArray(r.rules)) throw new Error('rules: expected array')
    r.rules.forEach((x, i) => {
      if (x === null || typeof x !== 'object' || Array.isArray(x)) throw new Error(`rules[${i}]: expected object`)
      const e = x as Record<string, unknown>
      rules.set(text(e.rule_id, `rules[${i}].rule_id`), {
        evaluations: num(e.evaluations, `rules[${i}].evaluations`),
        newBlocks: num(e.new_blocks, `rules[${i}].new_blocks`),
        newAllows: num(e.new_allows, `rules[${i}].new_allows`),
        rate: num(e.new_block_rate_pct, `rules[${i}].new_block_rate_pct`),
      })
    })
  }
  if (r.quarantines !== undefined && r.quarantines !== null && !Array.isArray(r.quarantines)) throw new Error('quarantines: expected array')
  return {
    contractHash: text(r.contract_hash, 'contract_hash'),
    totalRecords: num(r.total_records, 'total_records'),
    newBlocks: num(r.new_blocks, 'new_blocks'),
    quarantines: Array.isArray(r.quarantines) ? r.quarantines.length : 0,
    rules,
  }
}

function readReport(p: string): ShadowReportSummary {
  if (!path.isAbsolute(p)) throw fail(`learn diff: report path must be absolute, got ${JSON.stringify(p)}`)
  let st
  try {
    st = lstatSync(p)
  } catch (e) {
    throw fail(`learn diff: cannot read report ${p}: ${osErrorReason(e)}`)
  }
  if (st.isSymbolicLink()) throw fail(`learn diff: report must not be a symlink: ${p}`)
  if (!st.isFile()) throw fail(`learn diff: report must be a regular file: ${p}`)
  let raw: unknown
  const text = readFileSync(p, 'utf8')
  try {
    raw = JSON.parse(text)
  } catch (e) {
    // The markdown report of the same run is the likely mix-up.
    const markdown = text.trimStart().startsWith('#')
    throw new PipelockError('SHADOW_INPUT_INVALID', `learn diff: decode report: ${jsonParseReason(e)}`, {
      location: {file: p},
      ...(markdown ? {hint: 'this looks like the markdown report (learn shadow --out); learn diff reads the JSON reports learn shadow --out-json writes'} : {}),
    })
  }
  const other = notShadowReport(raw)
  if (other !== undefined) {
    throw new PipelockError('SHADOW_INPUT_INVALID', `learn diff: ${p} is not a shadow report: it looks like ${other}`, {
      hint: 'give two reports that learn shadow --out-json wrote',
    })
  }
  try {
    return decodeShadowReport(JSON.stringify(raw))
  } catch (e) {
    throw new PipelockError('SHADOW_INPUT_INVALID', `learn diff: decode report: ${(e as Error).message}`, {location: {file: p}})
  }
}

const signed = (n: number): string => (n >= 0 && !Object.is(n, -0) ? `+${n}` : `${n}`)

/** Go `%+.2f`. */
function signedFixed(x: number): string {
  const s = formatFixed(x, 2)
  return s.startsWith('-') ? s : `+${s}`
}

export function diffReports(a: ShadowReportSummary, b: ShadowReportSummary): Omit<DiffResult, 'inputs' | 'dest' | 'markdown'> {
  const ids = [...new Set([...a.rules.keys(), ...b.rules.keys()])].sort(compareUtf8)
  const zero = {evaluations: 0, newBlocks: 0, newAllows: 0, rate: 0}
  const rows = ids.map((id) => {
    const x = a.rules.get(id) ?? zero
    const y = b.rules.get(id) ?? zero
    return {ruleId: id, evaluationsDelta: y.evaluations - x.evaluations, newBlocksDelta: y.newBlocks - x.newBlocks, newAllowsDelta: y.newAllows - x.newAllows, rateDelta: y.rate - x.rate}
  })
  return {
    firstContractHash: a.contractHash,
    secondContractHash: b.contractHash,
    recordsDelta: b.totalRecords - a.totalRecords,
    newBlocksDelta: b.newBlocks - a.newBlocks,
    quarantineDelta: b.quarantines - a.quarantines,
    rows,
  }
}

export function renderDiffMarkdown(d: Omit<DiffResult, 'inputs' | 'dest' | 'markdown'>): string {
  let s = '# Shadow Diff\n\n'
  s += `- first_contract_hash: \`${d.firstContractHash}\`\n`
  s += `- second_contract_hash: \`${d.secondContractHash}\`\n`
  s += `- records_delta: ${signed(d.recordsDelta)}\n`
  s += `- new_blocks_delta: ${signed(d.newBlocksDelta)}\n`
  s += `- quarantine_delta: ${signed(d.quarantineDelta)}\n\n`
  s += '| rule | evals_delta | new_blocks_delta | new_allows_delta | rate_delta |\n|---|---:|---:|---:|---:|\n'
  for (const r of d.rows) {
    s += `| \`${r.ruleId}\` | ${signed(r.evaluationsDelta)} | ${signed(r.newBlocksDelta)} | ${signed(r.newAllowsDelta)} | ${signedFixed(r.rateDelta)}% |\n`
  }
  return s
}

/** `learn diff A B [--out]`. */
export function runLearnDiff(first: string, second: string, out?: string): DiffResult {
  const a = readReport(first)
  const b = readReport(second)
  const dest = out === undefined ? undefined : checkOutputPath(out, 'learn diff')
  const d = diffReports(a, b)
  const markdown = renderDiffMarkdown(d)
  if (dest !== undefined) {
    checkOutputPath(dest, 'learn diff', true)
    writeFileAtomic(dest, markdown, 0o600)
  }
  return {...d, inputs: [first, second], ...(dest === undefined ? {} : {dest}), markdown}
}
