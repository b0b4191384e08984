import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {canonicalizePath, goToLower, goToLowerBytes, goToUpper, goTrimSpace, parseHttpUrl, toByteString} from '../../../src/plugins/canonical/index.js'
import {decodeSummary, readCaptureInputs, type DecodedSummary, type RecorderEntry} from '../../../src/plugins/capture/index.js'
import {Aggregator, type AggregateSettings, type RuleAggregate} from '../../../src/plugins/learn/index.js'
import {budgetStats} from '../../../src/plugins/learn/inference.js'
import {capPerHost, DEFAULT_NORMALIZATION, normalizeHostPaths} from '../../../src/plugins/learn/normalize.js'
import {fleetShape, generateCorpus, type TrafficShape} from '../../../bench/corpus-generator.js'
import {captureFiles} from '../../../bench/capture-files.js'

// The aggregator keeps its cells in typed arrays (cell-store.ts: records, an open-addressing node
// table, paths as bytes, small sets as pool chains). This oracle is the plain form of the same
// aggregation — one object per cell, JS Sets and Maps, every URL through the general parser — and
// the two must give the same rules on generated corpora.

interface OracleCell {
  host: string
  path: string
  method: string
  action: string
  count: number
  sessions: Set<number>
  windows: Set<number>
  payload: Map<number, number>
  scanner: Map<number, number>
}

const esc = (s: string): string => s.replace(/[%;=]/g, (c) => (c === '%' ? '%25' : c === ';' ? '%3B' : '%3D'))
const bump = (m: Map<number, number>, v: number, n = 1): void => void m.set(v, (m.get(v) ?? 0) + n)
const byKey = (a: {key: string}, b: {key: string}): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

function oracleRules(events: readonly {entry: RecorderEntry; s: DecodedSummary}[], windowSeconds: number, settings: AggregateSettings): RuleAggregate[] {
  const cells = new Map<string, OracleCell>()
  const sessions = new Map<string, number>()
  let httpTotal = 0
  for (const {entry, s} of events) {
    const url = parseHttpUrl(s.url)
    if (url === undefined) continue
    let host: string
    let p: string
    try {
      host = goToLowerBytes(url.hostname)
      p = canonicalizePath(url.escapedPath === '' ? '/' : url.escapedPath)
    } catch {
      continue
    }
    const m = goToUpper(goTrimSpace(s.method))
    const method = toByteString(m === '' ? 'UNKNOWN' : m)
    const action = toByteString(goToLower(goTrimSpace(s.effectiveAction)))
    if (!sessions.has(entry.sessionId)) sessions.set(entry.sessionId, sessions.size)
    const sid = sessions.get(entry.sessionId) as number
    const window = Math.floor(entry.epochSeconds / windowSeconds) * windowSeconds
    const key = JSON.stringify([host, p, method, action])
    let c = cells.get(key)
    if (c === undefined) cells.set(key, (c = {host, path: p, method, action, count: 0, sessions: new Set(), windows: new Set(), payload: new Map(), scanner: new Map()}))
    c.count++
    c.sessions.add(sid)
    c.windows.add(window)
    bump(c.payload, Math.max(0, s.payloadBytes))
    bump(c.scanner, Math.max(0, s.scannerBytes))
    httpTotal++
  }
  const rules: RuleAggregate[] = []
  const hosts = new Set([...cells.values()].map((c) => c.host))
  for (const host of hosts) {
    const own = [...cells.values()].filter((c) => c.host === host)
    const family = new Map<string, number>()
    for (const c of own) family.set(c.path, (family.get(c.path) ?? 0) + c.count)
    const norm = normalizeHostPaths(family, settings.normalization)
    const normalized = new Map<string, number>()
    for (const [p, n] of family) normalized.set(norm.mapping.get(p) as string, (normalized.get(norm.mapping.get(p) as string) ?? 0) + n)
    const cap = capPerHost(normalized, settings.cardinalityCapPerHost, settings.tailPromotionBlockPct, settings.acceptTail)
    const acc = new Map<string, {r: RuleAggregate; parent?: string; sessions: Set<number>; windows: Set<number>; payload?: Map<number, number>; scanner?: Map<number, number>}>()
    const touch = (key: string, r: Omit<RuleAggregate, 'key' | 'observed' | 'opportunities' | 'sessions' | 'windows'>, c: OracleCell, parent?: string) => {
      let a = acc.get(key)
      if (a === undefined) acc.set(key, (a = {r: {key, ...r, observed: 0, opportunities: 0, sessions: 0, windows: 0}, ...(parent === undefined ? {} : {parent}), sessions: new Set(), windows: new Set()}))
      a.r.observed += c.count
      for (const v of c.sessions) a.sessions.add(v)
      for (const v of c.windows) a.windows.add(v)
      return a
    }
    const hostKey = 'host=' + esc(host)
    for (const c of own) {
      touch(hostKey, {host}, c)
      const p = norm.mapping.get(c.path) as string
      if (!cap.kept.has(p)) continue
      const n = norm.evidence.get(p)
      const extra = n === undefined ? {} : {normalization: n}
      const pathKey = `${hostKey};path=${esc(p)}`
      touch(pathKey, {host, path: p, ...extra}, c, hostKey)
      const methodKey = `${pathKey};method=${esc(c.method)}`
      const m = touch(methodKey, {host, path: p, method: c.method, ...extra}, c, pathKey)
      for (const [v, k] of c.payload) bump((m.payload ??= new Map()), v, k)
      for (const [v, k] of c.scanner) bump((m.scanner ??= new Map()), v, k)
      if (c.action !== '') touch(`${methodKey};action=${esc(c.action)}`, {host, path: p, method: c.method, action: c.action, ...extra}, c, methodKey)
    }
    for (const a of acc.values()) {
      a.r.sessions = a.sessions.size
      a.r.windows = a.windows.size
      a.r.opportunities = a.parent === undefined ? httpTotal : (acc.get(a.parent) as {r: RuleAggregate}).r.observed
      if (a.payload !== undefined && a.scanner !== undefined) a.r.budgets = [budgetStats(a.payload), budgetStats(a.scanner)]
      rules.push(a.r)
    }
  }
  return rules.sort(byKey)
}

const SETTINGS: AggregateSettings = {normalization: DEFAULT_NORMALIZATION, cardinalityCapPerHost: 40, tailPromotionBlockPct: 5, acceptTail: false}

/** Escapes, non-ASCII bytes, upper case, ports, methods spelled two ways, empty actions: URLs off the plain path. */
const ODD: TrafficShape = {
  routes: [
    {method: 'GET', url: 'https://Api.Example.com:8443/V1/Items/{id}/', weight: 4, ids: 300},
    {method: ' get ', url: 'https://api.example.com/v1/items/{id}', weight: 2, ids: 300, action: 'warn'},
    {method: 'POST', url: 'https://xn--bcher-kva.example/%C3%BCber/{id}', weight: 3, ids: 50, action: ''},
    {method: 'PUT', url: 'https://x.example/a%2Fb/{id}?q=1#frag', weight: 1, ids: 20, action: 'block'},
    {method: 'GET', url: 'ftp://not-http.example/file', weight: 1},
    {method: 'DELETE', url: 'https://x.example/v1//double', weight: 1},
  ],
}

test('the typed-array cell store gives the rules of the plain object-per-cell aggregation (generated corpora)', async () => {
  for (const [shape, events, minRules] of [
    // (its ids collapse: few rules, each from many cells)
    [ODD, 4000, 8],
    // Past the node table's and the arrays' first sizes.
    [fleetShape(300), 20_000, 1000],
  ] as const) {
    const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-aggregate-store-'))
    try {
      // 12 sessions over 48 one-hour windows: sets past the chain limit.
      generateCorpus(dir, {seed: 11, agent: 'agg', sessions: 12, events, start: '2026-05-01T00:00:00Z', spanSeconds: 48 * 3600, shape})
      const seen: {entry: RecorderEntry; s: DecodedSummary}[] = []
      const agg = new Aggregator(3600)
      await readCaptureInputs(
        captureFiles(dir).map((name) => ({name})),
        {
          onEntry: (entry) => {
            if (entry.type !== 'capture') return
            const s = decodeSummary(entry.detail)
            seen.push({entry, s})
            agg.addCapture(entry, s)
          },
        },
      )
      const got = agg.finish(SETTINGS).rules.map(({id: _id, ...r}) => r)
      const want = oracleRules(seen, 3600, SETTINGS)
      assert.ok(want.length >= minRules, `${want.length} rules`)
      assert.ok(want.some((r) => r.sessions > 8) && want.some((r) => r.windows > 8))
      assert.deepEqual(got, want)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }
})
