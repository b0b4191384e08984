import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock} from '../../../src/plugins/canonical/index.js'
import {
  compareCaptureFiles,
  globFiles,
  decodeEntry,
  decodeSummary,
  discoverCaptureFiles,
  entryHash,
  isSafeSessionId,
  mcpSessionId,
  openCaptureWriter,
  proxySessionId,
  readCaptureInputs,
  summaryJson,
  sessionDirVerdict,
  type CaptureSummary,
  type RecorderEntry,
} from '../../../src/plugins/capture/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'

const CLOCK = fixedClock('2026-04-29T12:00:01Z')

function summary(url: string, extra: Partial<CaptureSummary> = {}): CaptureSummary {
  return {
    capture_schema_version: 1,
    surface: 'url',
    subsurface: 'forward',
    config_hash: 'sha256:cfg',
    build_version: 'test',
    build_sha: 'test',
    agent: 'agent-a',
    action_class: 'read',
    payload_complete: false,
    transform_kind: '',
    request: {method: 'GET', url},
    raw_findings: null,
    effective_findings: null,
    effective_action: 'allow',
    outcome: 'clean',
    ...extra,
  }
}

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'pipelock-capture-'))
}

async function readAll(files: string[]): Promise<RecorderEntry[]> {
  const out: RecorderEntry[] = []
  await readCaptureInputs(files.map((f) => ({name: f})), {onEntry: (e) => out.push(e)})
  return out
}

test('§2.4 worked example: golden line 1 hashes to fd5f2a94…', () => {
  const line =
    '{"v":2,"seq":1,"ts":"2026-04-29T12:00:01Z","session_id":"session-001","type":"capture","event_kind":"url","transport":"forward","summary":"captured","detail":{"capture_schema_version":1,"surface":"url","subsurface":"forward","config_hash":"sha256:harness-original-config","build_version":"harness","build_sha":"harness","agent":"harness-agent","profile":"harness","action_class":"read","payload_complete":false,"transform_kind":"","request":{"method":"GET","url":"https://api.example.com/v1/users"},"raw_findings":null,"effective_findings":null,"effective_action":"allow","outcome":"clean"},"prev_hash":"genesis","hash":"fd5f2a945690f5f979c233105f7da99748223512ad5515a6c2c753905c8c6595"}'
  const e = decodeEntry(line)
  assert.equal(entryHash(e), 'fd5f2a945690f5f979c233105f7da99748223512ad5515a6c2c753905c8c6595')
  // The writer's summary serialisation reproduces the detail bytes exactly.
  const s = summary('https://api.example.com/v1/users', {config_hash: 'sha256:harness-original-config', build_version: 'harness', build_sha: 'harness', agent: 'harness-agent', profile: 'harness'})
  assert.equal(summaryJson(s), e.detailJson)
})

test('hash: detail whitespace and HTML characters hash as Go re-marshals them; offsets hash in UTC; v1 omits event_kind', () => {
  const base = {v: 2, seq: '0', ts: '2026-04-29T10:00:01.5Z', sessionId: 's', traceId: '', type: 'capture', eventKind: 'url', transport: 'forward', summary: 'x', detailJson: '{"a":"\\u003cb\\u003e"}', rawRef: '', prevHash: 'genesis'}
  const hash = entryHash(base)
  const line = `{"v":2,"seq":0,"ts":"2026-04-29T12:00:01.500+02:00","session_id":"s","type":"capture","event_kind":"url","transport":"forward","summary":"x","detail":{ "a" : "<b>" },"prev_hash":"genesis","hash":"${hash}"}`
  const e = decodeEntry(line)
  assert.equal(e.ts, '2026-04-29T10:00:01.5Z')
  assert.equal(e.detailJson, '{"a":"\\u003cb\\u003e"}')
  assert.equal(entryHash(e), hash)
  assert.notEqual(entryHash({...base, v: 1}), hash)
  assert.equal(entryHash({...base, v: 1}), entryHash({...base, v: 1, eventKind: 'other'}))
})

test('envelope decode: Go semantics (case-insensitive keys, last duplicate wins) and type errors', () => {
  const e = decodeEntry('{"V":2,"seq":3,"ts":"2026-04-29T12:00:00Z","Type":"a","type":"capture","prev_hash":"genesis","hash":"h"}')
  assert.equal(e.v, 2)
  assert.equal(e.type, 'capture')
  assert.equal(e.detailJson, 'null')
  assert.throws(() => decodeEntry('{"v":2,"seq":"1","ts":"2026-04-29T12:00:00Z"}'), /seq: expected unsigned integer/)
  assert.throws(() => decodeEntry('{"v":2.5,"seq":1,"ts":"2026-04-29T12:00:00Z"}'), /v: expected integer/)
  assert.throws(() => decodeEntry('{"v":2,"seq":1,"ts":"yesterday"}'), /ts: cannot parse/)
  assert.throws(() => decodeEntry('not json'), /not JSON/)
  assert.throws(() => decodeEntry('[1]'), /not a JSON object/)
})

test('summary decode: schema version must be 1, ints must be integers', () => {
  const ok = decodeSummary({capture_schema_version: 1, request: {method: 'get', url: 'https://a/'}, Payload_Bytes: 7})
  assert.equal(ok.method, 'get')
  assert.equal(ok.payloadBytes, 7)
  assert.throws(() => decodeSummary({capture_schema_version: 2}), /capture_schema_version: got 2, want 1/)
  assert.throws(() => decodeSummary({capture_schema_version: 1, payload_bytes: 1.5}), /payload_bytes: expected integer/)
  assert.throws(() => decodeSummary({capture_schema_version: 1, request: {url: 5}}), /request.url: expected string/)
})

test('session ids: proxy and MCP keys, sanitisation and the writer defence (§2.2)', () => {
  assert.deepEqual(proxySessionId('agent-a', '10.0.0.1'), {id: 'agent-a|10.0.0.1'})
  assert.deepEqual(proxySessionId('anonymous', '10.0.0.1'), {id: '10.0.0.1'})
  assert.deepEqual(proxySessionId('', ''), {id: 'anonymous'})
  const unsafe = proxySessionId('a/b', '1.2.3.4')
  assert.match(unsafe.id, /^capture-[0-9a-f]{64}$/)
  assert.equal(unsafe.original, 'a/b|1.2.3.4')
  assert.equal(unsafe.reason, 'unsafe_path')
  assert.equal(proxySessionId('x'.repeat(300), '1').reason, 'overlength')
  assert.deepEqual(mcpSessionId('stdio'), {id: 'mcp-stdio'})
  assert.deepEqual(mcpSessionId(''), {id: 'mcp'})
  assert.match(mcpSessionId('../x').id, /^mcp-[0-9a-f]{64}$/)
  for (const bad of ['', 'a/b', 'a\\b', '..', 'x..y']) assert.equal(isSafeSessionId(bad), false, bad)
  assert.equal(isSafeSessionId('agent|10.0.0.1'), true)
})

test('writer: per-session chains, checkpoints, rotation, drops; reader verifies every file', async () => {
  const dir = tmp()
  try {
    const w = openCaptureWriter(dir, {clock: CLOCK, linesPerFile: 5, checkpointEvery: 3})
    for (let i = 0; i < 7; i++) assert.equal(w.append({sessionId: 'agent-a|1', transport: 'forward', detail: summary(`https://api.example.com/v1/x${i}`)}), true)
    assert.equal(w.append({sessionId: 'agent-a|2', transport: 'forward', detail: summary('https://api.example.com/')}), true)
    assert.equal(w.append({sessionId: '../evil', transport: 'forward', detail: summary('https://e/')}), false)
    assert.equal(w.dropped, 1)
    w.close()
    const s1 = readdirSync(path.join(dir, 'agent-a|1')).sort()
    // 7 captures + 2 periodic checkpoints + 1 final = 10 lines, rotated every 5.
    assert.deepEqual(s1, ['evidence-agent-a|1-0.jsonl', 'evidence-agent-a|1-5.jsonl'])
    assert.deepEqual(readdirSync(path.join(dir, 'capture-meta')), ['evidence-capture-meta-0.jsonl'])
    const meta = readFileSync(path.join(dir, 'capture-meta', 'evidence-capture-meta-0.jsonl'), 'utf8')
    assert.match(meta, /"type":"capture_drop","event_kind":"capture_drop","transport":"","summary":"capture queue overflow","detail":\{"count":1,"reason":"backpressure"\}/)
    const files = [...s1.map((f) => path.join(dir, 'agent-a|1', f)), path.join(dir, 'agent-a|2', 'evidence-agent-a|2-0.jsonl')]
    const entries = await readAll(files)
    assert.equal(entries.filter((e) => e.type === 'capture').length, 8)
    const cps = entries.filter((e) => e.type === 'checkpoint').map((e) => e.summary)
    assert.deepEqual(cps, ['checkpoint: 3 entries [seq 0-2]', 'checkpoint: 3 entries [seq 4-6]', 'checkpoint: 1 entries [seq 8-8]', 'checkpoint: 1 entries [seq 0-0]'])
    // A restarted writer resumes the chain in a new file.
    const w2 = openCaptureWriter(dir, {clock: CLOCK})
    w2.append({sessionId: 'agent-a|2', transport: 'forward', detail: summary('https://api.example.com/again')})
    w2.close()
    const s2 = readdirSync(path.join(dir, 'agent-a|2')).sort()
    assert.deepEqual(s2, ['evidence-agent-a|2-0.jsonl', 'evidence-agent-a|2-2.jsonl'])
    const again = await readAll(s2.map((f) => path.join(dir, 'agent-a|2', f)))
    assert.equal(again.length, 4)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('reader: a non-JSON line and a broken chain are PipelockErrors naming file and line', async () => {
  const dir = tmp()
  try {
    const w = openCaptureWriter(dir, {clock: CLOCK, checkpointEvery: 100})
    for (let i = 0; i < 3; i++) w.append({sessionId: 's1', transport: 'forward', detail: summary(`https://a.example/${i}`)})
    w.close()
    const file = path.join(dir, 's1', 'evidence-s1-0.jsonl')
    const lines = readFileSync(file, 'utf8').split('\n')
    const bad = path.join(dir, 'bad.jsonl')
    writeFileSync(bad, [lines[0], '{oops', lines[1]].join('\n') + '\n')
    await assert.rejects(readAll([bad]), (e: unknown) => e instanceof PipelockError && e.code === 'CAPTURE_LINE_INVALID' && e.location?.file === bad && e.location.line === 2)
    const broken = path.join(dir, 'broken.jsonl')
    writeFileSync(broken, [lines[0], lines[2]].join('\n') + '\n')
    await assert.rejects(readAll([broken]), (e: unknown) => e instanceof PipelockError && e.code === 'CAPTURE_CHAIN_BROKEN' && e.location?.line === 2)
    const edited = path.join(dir, 'edited.jsonl')
    writeFileSync(edited, [lines[0], (lines[1] as string).replace('https://a.example/1', 'https://b.example/1')].join('\n') + '\n')
    await assert.rejects(readAll([edited]), /hash mismatch/)
    // A file that continues no earlier file's chain is refused too.
    const tail = path.join(dir, 'tail.jsonl')
    writeFileSync(tail, lines[1] + '\n')
    await assert.rejects(readAll([tail]), /neither "genesis" nor the last hash of an earlier file/)
    // …but after its predecessor it links.
    const head = path.join(dir, 'head.jsonl')
    writeFileSync(head, lines[0] + '\n')
    assert.equal((await readAll([head, tail])).length, 2)
    // Two chains concatenated into one file: the second genesis starts a new chain.
    const two = path.join(dir, 'two.jsonl')
    writeFileSync(two, [lines[0], lines[1], lines[0], lines[1]].join('\n') + '\n')
    assert.equal((await readAll([two])).length, 4)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('discovery: agent dir and agent|… siblings; poisoned sibling skipped; capture-meta never', () => {
  const dir = tmp()
  try {
    const w = openCaptureWriter(dir, {clock: CLOCK})
    w.append({sessionId: 'agent-a|10.0.0.1', transport: 'forward', detail: summary('https://a.example/')})
    w.append({sessionId: 'agent-a|poison', transport: 'forward', detail: summary('https://a.example/', {agent: 'evil'})})
    w.append({sessionId: 'agent-b|10.0.0.1', transport: 'forward', detail: summary('https://a.example/', {agent: 'agent-b'})})
    w.close()
    mkdirSync(path.join(dir, 'agent-a'))
    assert.equal(sessionDirVerdict(path.join(dir, 'agent-a'), 'agent-a').accepted, true)
    assert.equal(sessionDirVerdict(path.join(dir, 'agent-a|poison'), 'agent-a').accepted, false)
    const files = discoverCaptureFiles({root: dir, agent: 'agent-a', sinceEpochMs: 0})
    assert.deepEqual(files.map((f) => path.relative(dir, f)), [path.join('agent-a|10.0.0.1', 'evidence-agent-a|10.0.0.1-0.jsonl')])
    assert.deepEqual(discoverCaptureFiles({root: dir, agent: 'agent-a', sinceEpochMs: Date.now() + 3_600_000}), [])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('reader: tiny chunks, CRLF, UTF-8 split across reads and a missing final newline read the same', async () => {
  const dir = tmp()
  try {
    const w = openCaptureWriter(dir, {clock: CLOCK, checkpointEvery: 100})
    for (let i = 0; i < 4; i++) w.append({sessionId: 's', transport: 'forward', detail: summary(`https://a.example/caf\u00e9/${i}/\u{1f600}`)})
    w.close()
    const file = path.join(dir, 's', 'evidence-s-0.jsonl')
    const crlf = path.join(dir, 'crlf.jsonl')
    writeFileSync(crlf, readFileSync(file, 'utf8').replace(/\n/g, '\r\n').replace(/\r\n$/, ''))
    const whole: string[] = []
    await readCaptureInputs([{name: file}], {onEntry: (e) => whole.push(e.hash)})
    for (const chunkSize of [1, 7, 64]) {
      const got: string[] = []
      const refs: number[] = []
      await readCaptureInputs([{name: crlf}], {onEntry: (e) => got.push(e.hash), onFile: (r) => refs.push(r.eventCount), chunkSize})
      assert.deepEqual(got, whole, `chunk ${chunkSize}`)
      assert.deepEqual(refs, [5]) // 4 newlines + the unterminated last line
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('reader: afterChunk is awaited after each read, so a consumer never has more than a chunk of entries queued', async () => {
  const dir = tmp()
  try {
    const w = openCaptureWriter(dir, {clock: CLOCK, checkpointEvery: 1000})
    for (let i = 0; i < 200; i++) w.append({sessionId: 's', transport: 'forward', detail: summary(`https://a.example/${i}`)})
    w.close()
    const file = path.join(dir, 's', 'evidence-s-0.jsonl')
    const lineBytes = Math.max(...readFileSync(file, 'utf8').split('\n').map((l) => Buffer.byteLength(l) + 1))
    let queued = 0
    let maxQueued = 0
    let drained = 0
    let calls = 0
    await readCaptureInputs([{name: file}], {
      chunkSize: 4 * lineBytes,
      onEntry: () => {
        queued++
        maxQueued = Math.max(maxQueued, queued)
      },
      afterChunk: async () => {
        calls++
        await new Promise((r) => setImmediate(r))
        drained += queued
        queued = 0
      },
    })
    assert.equal(drained, 201) // 200 captures + the writer's closing checkpoint
    assert.ok(calls >= 50, `afterChunk called ${calls} times`)
    assert.ok(maxQueued <= 5, `up to ${maxQueued} entries queued between drains`)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('writer: a torn last line from a crash is cut off and the chain resumes after the last entry', async () => {
  const dir = tmp()
  try {
    const w = openCaptureWriter(dir, {clock: CLOCK, checkpointEvery: 100})
    w.append({sessionId: 's', transport: 'forward', detail: summary('https://a.example/1')})
    w.close()
    const file = path.join(dir, 's', 'evidence-s-0.jsonl')
    writeFileSync(file, readFileSync(file, 'utf8') + '{"v":2,"seq":2,"ts":"2026-04-29T1')
    const w2 = openCaptureWriter(dir, {clock: CLOCK})
    assert.equal(w2.append({sessionId: 's', transport: 'forward', detail: summary('https://a.example/2')}), true)
    w2.close()
    const files = readdirSync(path.join(dir, 's')).sort().map((f) => path.join(dir, 's', f))
    const entries = await readAll(files)
    assert.deepEqual(entries.map((e) => e.seq), ['0', '1', '2', '3'])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('input order: directories by bytes, rotated files by numeric start seq; Go-style glob', () => {
  const files = ['/c/s|1/evidence-s|1-10000.jsonl', '/c/s|1/evidence-s|1-9000.jsonl', '/c/a/evidence-a-0.jsonl', '/c/s|1/other.jsonl']
  assert.deepEqual([...files].sort(compareCaptureFiles), ['/c/a/evidence-a-0.jsonl', '/c/s|1/evidence-s|1-9000.jsonl', '/c/s|1/evidence-s|1-10000.jsonl', '/c/s|1/other.jsonl'])
  const dir = tmp()
  try {
    for (const d of ['x|1', 'x|2', 'y']) mkdirSync(path.join(dir, d))
    for (const f of ['x|1/a.jsonl', 'x|2/b.jsonl', 'x|2/b.txt', 'y/c.jsonl']) writeFileSync(path.join(dir, f), '')
    assert.deepEqual(globFiles(path.join(dir, 'x|*', '*.jsonl')).map((f) => path.relative(dir, f)), [path.join('x|1', 'a.jsonl'), path.join('x|2', 'b.jsonl')])
    assert.deepEqual(globFiles(path.join(dir, '[xy]*', '?.jsonl')).length, 3)
    assert.deepEqual(globFiles(path.join(dir, 'nope', '*.jsonl')), [])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
