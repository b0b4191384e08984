import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {decodeEntry, decodeSummary, decodeWriterCapture, EntryDecodeError, readCaptureInputs, summaryJson, type CaptureSummary, type RecorderEntry} from '../../../src/plugins/capture/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {capturedEvent, writerCapturedEvent, type CapturedEvent} from '../../../src/plugins/learn/index.js'
import {RecorderEntryChain} from '../../../src/plugins/receipts/index.js'
import {generateCorpus, realisticShape, seededRandom} from '../../../bench/corpus-generator.js'
import {listJsonl} from '../../helpers/golden-shadow.js'
import {repoPath} from '../../helpers/vectors.js'

// Issue 18: `learn shadow` reads capture lines in the writer's own layout with one regular
// expression instead of JSON.parse (`decodeWriterCapture`, capture/writer-line.ts). Differential
// against the general path kept as the oracle (`decodeEntry`, then `capturedEvent`'s
// `decodeSummary`): on every line of the golden corpora, a generated corpus, writer lines with
// every optional member, escapes, unicode, findings and headers, and 20,000 mutated lines
// (escapes, control characters, whitespace, reordered/duplicated/renamed members, numbers out of
// range) the fast reader either declines (undefined) or gives exactly the oracle's entry and
// event; it declines every line the oracle refuses or skips.

type Oracle = 'refused' | 'other' | 'skipped' | {entry: RecorderEntry; event: CapturedEvent}

function oracle(line: string): Oracle {
  let entry: RecorderEntry
  try {
    entry = decodeEntry(line)
  } catch (e) {
    if (e instanceof EntryDecodeError) return 'refused'
    throw e
  }
  if (entry.type !== 'capture') return 'other'
  const event = capturedEvent(entry)
  return event === undefined ? 'skipped' : {entry, event}
}

/** Asserts the fast reader agrees with the oracle on `line`; true when it took the line. */
function agrees(line: string): boolean {
  const fast = decodeWriterCapture(line)
  if (fast === undefined) return false
  const want = oracle(line)
  assert.ok(typeof want === 'object', `taken by the fast reader, ${want} by the oracle: ${line}`)
  const e = want.entry
  const fields = (x: typeof fast | RecorderEntry) => ({
    v: x.v, seq: x.seq, ts: x.ts, epochSeconds: x.epochSeconds, nanos: x.nanos, sessionId: x.sessionId, traceId: x.traceId, type: x.type,
    eventKind: x.eventKind, transport: x.transport, summary: x.summary, detailJson: x.detailJson, rawRef: x.rawRef, prevHash: x.prevHash, hash: x.hash,
  })
  assert.deepEqual(fields(fast), fields(e), line)
  assert.deepEqual(writerCapturedEvent(fast), want.event, line)
  // What compile reads (issue 36: compile takes the fast reader too): decodeSummary's values.
  const compileFields = {
    agent: fast.agent, method: fast.method, url: fast.url, actionClass: fast.actionClass, effectiveAction: fast.effectiveAction,
    payloadBytes: fast.payloadBytes, scannerBytes: fast.scannerBytes, toolName: fast.toolName, mcpMethod: fast.mcpMethod, mcpServer: fast.mcpServer,
  }
  assert.deepEqual(compileFields, decodeSummary(e.detail), line)
  // The same values as slices of the line (compile's reading).
  assert.deepEqual(decodeWriterCapture(line, true), fast, line)
  return true
}

const BASE: CaptureSummary = {
  capture_schema_version: 1, surface: 'url', subsurface: 'forward', config_hash: 'sha256:c', build_version: 'v', build_sha: 's',
  payload_complete: false, transform_kind: '', request: {method: 'GET', url: 'https://api.example.com/v1/users/1'},
  raw_findings: null, effective_findings: null, effective_action: 'allow', outcome: 'clean',
}

/** Writer lines (RecorderEntryChain + summaryJson, as the capture writer writes them) with every optional member and odd values. */
function writerLines(): string[] {
  const full: CaptureSummary = {
    ...BASE, batch_index: 3, agent: 'a', session_id_original: 'orig|1', profile: 'p', action_class: 'WRITE ', payload_ref: 'sha256:payload-ref-0123456789',
    payload_sha256: 'sha256:x', payload_bytes: 123456789012345, payload_complete: true, transform_kind: 'gzip', wire_payload_bytes: 9, wire_payload_sample: 'wire',
    scanner_bytes: 7, scanner_sample: 'sample', request: {method: 'POST', url: 'https://h.example/p', body_sample: 'body', tool_name: 'read_file', tool_args_json: '{}', mcp_method: 'tools/call', mcp_server: 'srv-with-a-long-name'},
    skip_reason: 'why',
  }
  const details: CaptureSummary[] = [
    BASE, full,
    {...BASE, surface: 'response', effective_action: 'warn'},
    {...BASE, request: {method: 'GET', url: 'https://ünïcode.example/π/路径?q=€'}},
    {...BASE, request: {method: 'GET', url: 'https://h.example/a b'}}, // a space: the detail is compacted by the oracle too
    {...BASE, request: {method: 'GET', url: 'https://h.example/?q=<b>&c'}}, // escaped by the writer: declined
    {...BASE, request: {method: 'GET', url: 'https://h.example/"q"\\'}},
    {...BASE, request: {method: 'GET', url: 'https://h.example/\u2028'}},
    {...BASE, request: {method: 'GET', url: ''}},
    {...BASE, request: {method: 'GET', url: 'https://h.example/x', headers: {Accept: ['*/*']}}},
    {...BASE, raw_findings: [{kind: 'dlp', action: 'block'}], effective_findings: [{kind: 'dlp'}]},
    {...BASE, request: {method: 'POST', url: '', tool_name: 'write', tool_args_json: '{"path":"/tmp/x"}'}},
    {...BASE, payload_bytes: -5, scanner_bytes: 0},
  ]
  const lines: string[] = []
  for (const [i, d] of details.entries()) {
    for (const extra of [{}, {traceId: 'trace-1234567890'}, {rawRef: 'raw/ref-0001'}]) {
      const chain = new RecorderEntryChain(`agent|10.0.0.${i}`, {seq: BigInt(i) * 9_999_999_999_999_999n, prevHash: 'genesis'})
      for (const ts of ['2026-05-01T00:00:01.9934Z', '2026-05-01T00:00:02Z', '1969-12-31T23:59:59.5Z']) {
        lines.push(chain.next({ts, tsCanonical: true, type: 'capture', eventKind: d.surface, transport: 'forward', summary: `${d.subsurface}:${d.effective_action}`, detailJson: summaryJson(d), ...extra}).line)
      }
      lines.push(chain.next({ts: '2026-05-01T00:00:03Z', type: 'capture', summary: 'no kind', detailJson: summaryJson(d)}).line)
      lines.push(chain.checkpoint('2026-05-01T00:00:04Z', 0n).line)
    }
  }
  return lines
}

const ALPHABET = ['"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\t', '\u0001', '\u001f', '0', '1', '9', '-', '.', 'e', 'a', 'Z', 'é', '\u2028', 'null', 'true', '"x"', '\\u0041', '\\"']

/** One random edit of `line`: a character or token inserted, replaced or removed; members swapped, duplicated or renamed; a number changed. */
function mutate(line: string, rnd: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const at = Math.floor(rnd() * (line.length + 1))
  switch (Math.floor(rnd() * 8)) {
    case 0:
      return line.slice(0, at) + pick(ALPHABET) + line.slice(at)
    case 1:
      return line.slice(0, at) + pick(ALPHABET) + line.slice(at + 1)
    case 2:
      return line.slice(0, at) + line.slice(at + 1 + Math.floor(rnd() * 3))
    case 3: {
      // two members swapped (a `,"key":` boundary to the next)
      const keys = [...line.matchAll(/,"[a-z_]+":/g)].map((m) => m.index as number)
      if (keys.length < 3) return line
      const i = Math.floor(rnd() * (keys.length - 2))
      const [a, b, c] = [keys[i] as number, keys[i + 1] as number, keys[i + 2] as number]
      return line.slice(0, a) + line.slice(b, c) + line.slice(a, b) + line.slice(c)
    }
    case 4: {
      // a member written twice (Go: the last wins)
      const keys = [...line.matchAll(/,"[a-z_]+":/g)].map((m) => m.index as number)
      if (keys.length < 2) return line
      const i = Math.floor(rnd() * (keys.length - 1))
      const member = line.slice(keys[i] as number, keys[i + 1] as number)
      const j = keys[Math.floor(rnd() * keys.length)] as number
      return line.slice(0, j) + member + line.slice(j)
    }
    case 5: {
      // a key in another case (Go binds it case-insensitively)
      const keys = [...line.matchAll(/"([a-z_]+)":/g)]
      if (keys.length === 0) return line
      const m = pick(keys)
      const i = (m.index as number) + 1 + Math.floor(rnd() * (m[1] as string).length)
      return line.slice(0, i) + line.charAt(i).toUpperCase() + line.slice(i + 1)
    }
    case 6: {
      // a number made longer, zero-led, negative or fractional
      const nums = [...line.matchAll(/:(-?\d+)[,}]/g)]
      if (nums.length === 0) return line
      const m = pick(nums)
      const s = (m.index as number) + 1
      const n = m[1] as string
      const repl = pick([n + '0'.repeat(1 + Math.floor(rnd() * 6)), '0' + n, '-' + n, n + '.5', n + 'e1', '18446744073709551616', '1' + '0'.repeat(15), '2', '1.0'])
      return line.slice(0, s) + repl + line.slice(s + n.length)
    }
    default: {
      // a string value replaced by another type
      const strs = [...line.matchAll(/:"[^"\\]*"/g)]
      if (strs.length === 0) return line
      const m = pick(strs)
      return line.slice(0, (m.index as number) + 1) + pick(['null', '1', 'true', '{}', '[]', '""']) + line.slice((m.index as number) + m[0].length)
    }
  }
}

function goldenLines(): string[] {
  const lines: string[] = []
  for (const f of listJsonl(repoPath('goldens'))) for (const l of readFileSync(f, 'utf8').split('\n')) if (l !== '') lines.push(l)
  return lines
}

test('decodeWriterCapture: golden, generated and writer lines read as decodeEntry + decodeSummary read them', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-writer-line-'))
  try {
    generateCorpus(dir, {seed: 5, agent: 'w-agent', sessions: 2, events: 3000, start: '2026-04-29T00:00:00Z', spanSeconds: 3600, shape: realisticShape(50)})
    const generated: string[] = []
    for (const f of listJsonl(dir)) for (const l of readFileSync(f, 'utf8').split('\n')) if (l !== '') generated.push(l)
    const golden = goldenLines()
    const writer = writerLines()
    for (const [label, lines] of [['golden', golden], ['generated', generated], ['writer', writer]] as const) {
      let taken = 0
      let plain = 0
      for (const l of lines) {
        if (agrees(l)) taken++
        // Capture lines the fast reader is for: no escape, findings or headers.
        if (l.includes('"type":"capture"') && !l.includes('\\') && l.includes('"raw_findings":null,"effective_findings":null') && !l.includes('"headers"') && l.startsWith('{"v":2,')) plain++
      }
      assert.equal(taken, plain, `${label}: every plain writer capture line is read by the fast reader`)
      assert.ok(taken > 0, label)
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('decodeWriterCapture: lines off the writer layout are declined or read as the oracle reads them', () => {
  const base = `{"v":2,"seq":7,"ts":"2026-05-01T00:00:01.5Z","session_id":"s|1","type":"capture","event_kind":"url","transport":"forward","summary":"forward:allow","detail":${summaryJson(BASE)},"prev_hash":"genesis","hash":"${'a'.repeat(64)}"}`
  assert.ok(agrees(base))
  const declined = [
    base.replace('"https://api', '"https:\\/\\/api'), // an escape
    base.replace('users/1', 'users/\t1'), // a control character: not JSON
    base.replace('users/1', 'users/\u00011'),
    base.replace('"seq":7', '"seq":07'), // not JSON
    base.replace('"seq":7', '"seq":18446744073709551616'), // above 2^64
    base.replace('"seq":7', '"seq":10000000000000000000'), // 20 digits, below 2^64: the general path's
    base.replace('"v":2', '"v":1'),
    base.replace('"capture_schema_version":1', '"capture_schema_version":2'), // skipped
    base.replace('"payload_complete":false', '"payload_complete":"false"'), // skipped
    base.replace('"transform_kind":""', '"transform_kind":"","payload_bytes":1.5'),
    base.replace('"transform_kind":""', '"transform_kind":"","scanner_bytes":1234567890123456'), // 16 digits
    base.replace('"url":', '"URL":'), // Go binds it; the general path reads it
    base.replace('"surface":"url"', '"surface":"url","surface":"dlp"'), // duplicate: the last wins
    base.replace('"outcome":"clean"', '"outcome":"clean","extra":{"a":[1]}'),
    base.replace('"type":"capture"', '"type":"checkpoint"'),
    base.replace('"ts":"2026-05-01T00:00:01.5Z"', '"ts":"2026-05-01T02:00:01.5+02:00"'),
    base.replace('"ts":"2026-05-01T00:00:01.5Z"', '"ts":"2026-05-01T00:00:01.50Z"'),
    base.replace('{"v"', '{ "v"'),
    base + ' ',
    base.slice(0, -1),
    base.replace('"raw_findings":null', '"raw_findings":[]'),
  ]
  for (const l of declined) {
    assert.equal(decodeWriterCapture(l), undefined, l)
    oracle(l) // the general path decides (refuses, skips or reads)
  }
  // The fuzz: 20,000 mutations (one to three edits) of golden and writer lines.
  const seeds = [...goldenLines().filter((_, i) => i % 7 === 0), ...writerLines(), base]
  const rnd = seededRandom(18)
  let taken = 0
  let refused = 0
  for (let n = 0; n < 20_000; n++) {
    let l = seeds[Math.floor(rnd() * seeds.length)] as string
    for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) l = mutate(l, rnd)
    if (agrees(l)) taken++
    else if (oracle(l) === 'refused') refused++
  }
  // Both sides exercised: mutations the fast reader still takes (edits inside strings), and ones the oracle refuses.
  assert.ok(taken > 500 && refused > 1000, `taken ${taken}, refused ${refused}`)
})

test('readCaptureInputs onCapture: the same entries in order, and a broken chain fails alike', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-writer-line-read-'))
  try {
    const lines = writerLines()
    const file = path.join(dir, 'a.jsonl')
    writeFileSync(file, lines.join('\n') + '\n')
    const viaEntry: unknown[] = []
    await readCaptureInputs([{name: file}], {onEntry: (e, s) => viaEntry.push(e.type === 'capture' ? [capturedEvent(e) ?? 'skipped', s.line] : [e.type, s.line])})
    const viaCapture: unknown[] = []
    let fast = 0
    await readCaptureInputs([{name: file}], {
      onEntry: (e, s) => viaCapture.push(e.type === 'capture' ? [capturedEvent(e) ?? 'skipped', s.line] : [e.type, s.line]),
      onCapture: (c, s) => {
        fast++
        viaCapture.push([writerCapturedEvent(c), s.line])
      },
    })
    assert.deepEqual(viaCapture, viaEntry)
    assert.ok(fast > 50 && fast < lines.length, `${fast} of ${lines.length}`)
    // A hash changed in a line the fast reader takes (and the next line's link then broken too).
    const i = lines.findIndex((l, k) => k > 0 && decodeWriterCapture(l) !== undefined)
    const bad = [...lines]
    bad[i] = (bad[i] as string).replace(/"hash":"[0-9a-f]{64}"/, `"hash":"${'0'.repeat(64)}"`)
    writeFileSync(file, bad.join('\n') + '\n')
    const failure = async (onCapture: boolean): Promise<PipelockError> => {
      try {
        await readCaptureInputs([{name: file}], {onEntry: () => {}, ...(onCapture ? {onCapture: () => {}} : {})})
      } catch (e) {
        assert.ok(e instanceof PipelockError)
        return e
      }
      assert.fail('no error')
    }
    const [a, b] = [await failure(false), await failure(true)]
    assert.deepEqual([b.code, b.message, b.hint, b.location], [a.code, a.message, a.hint, a.location])
    assert.equal(a.code, 'CAPTURE_CHAIN_BROKEN')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
