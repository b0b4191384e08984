import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {canonicalize, emitSignedYaml, fixedClock, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {decodeWriterCapture} from '../../../src/plugins/capture/index.js'
import {buildInfoUnavailableDigests, projectContractRule} from '../../../src/plugins/contracts/index.js'
import {compileContract, type CompileConfig, type CompileResult} from '../../../src/plugins/learn/index.js'
import {buildRule} from '../../../src/plugins/learn/rules.js'
import {ruleCanonical, ruleYamlLines} from '../../../src/plugins/learn/rule-emit.js'
import {keyPairFromSeed, sha256} from '../../../src/plugins/signing/index.js'
import {fleetShape, generateCorpus, type TrafficShape} from '../../../bench/corpus-generator.js'
import {captureFiles} from '../../../bench/capture-files.js'

// Compile streams its output (issue 36): rules are written one at a time from their aggregates,
// the signature is computed over the canonical body written twice, and the YAML is handed out in
// bounded pieces. These tests pin that the streamed bytes are the generic emitters' bytes, and
// that what compile materialises does not grow with the number of distinct paths or rules.

const CONFIG: CompileConfig = {
  agent: 'stream-agent',
  floors: {min_sessions: 1, min_events: 1, min_windows: 1},
  compileConfigHash: 'sha256:t',
  pipelockVersion: 't',
  pipelockBuildSha: 't',
  goVersion: 't',
  moduleDigestRoot: 'sha256:t',
}

async function compileShape(shape: TrafficShape, events: number, seed = 3): Promise<CompileResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-compile-stream-'))
  try {
    generateCorpus(dir, {seed, agent: 'stream-agent', sessions: 4, events, start: '2026-05-01T00:00:00Z', spanSeconds: 6 * 3600, shape})
    return await compileContract(
      captureFiles(dir).map((name) => ({name})),
      CONFIG,
      {clock: fixedClock('2026-05-02T00:00:00Z'), signer: {keyPair: keyPairFromSeed(sha256('unit')), keyId: 'unit'}, moduleDigests: buildInfoUnavailableDigests()},
    )
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

// Hosts, paths, methods and actions that exercise quoting in both encoders: numbers-like and
// date-like display names, non-ASCII, HTML-escaped characters, YAML indicators.
const HOSTILE: TrafficShape = {
  routes: [
    {method: 'GET', url: 'http://10.0.0.1/2026-05-01', weight: 2},
    {method: 'POST', url: 'https://api.example.com/v1/a&b/<c>', weight: 2, action: 'warn'},
    {method: 'GET', url: 'https://xn--bcher-kva.example/%C3%BCber/caf%C3%A9', weight: 2},
    {method: 'PUT', url: "https://x.example/'quoted'/#frag", weight: 1, action: 'block'},
    {method: 'DELETE', url: 'https://x.example/-/: colon/ #hash', weight: 1},
    {method: 'GET', url: 'https://x.example/1e5', weight: 1},
    {method: 'GET', url: 'https://x.example/v1/items/{id}', weight: 4, ids: 40},
  ],
}

test('rules written from their aggregates are the bytes of the projected rule tree (canonical and YAML)', async () => {
  for (const [shape, events] of [
    [HOSTILE, 600],
    [fleetShape(40), 3000],
  ] as const) {
    const r = await compileShape(shape, events)
    const floors = {min_sessions: 1, min_events: 1, min_windows: 1}
    assert.ok(r.aggregate.rules.length > 20)
    r.aggregate.rules.forEach((agg, i) => {
      const tree = projectContractRule(buildRule(agg, floors).tree, i)
      assert.equal(ruleCanonical(agg, floors), canonicalize(tree))
      const generic = emitSignedYaml(new Map<string, JsonValue>([['a', new Map<string, JsonValue>([['rules', [tree]]])]]))
      const lines: string[] = []
      ruleYamlLines(agg, floors, lines)
      assert.equal(lines.join('\n') + '\n', generic.split('\n').slice(2).join('\n'))
    })
    // And the whole document: the streamed YAML is the generic emitter's YAML of the full tree.
    assert.equal(r.yaml, emitSignedYaml(r.contract))
  }
})

/** Pieces handed to `writeYaml`: their number, the largest and the total length. */
function yamlPieces(r: CompileResult): {pieces: number; largest: number; total: number} {
  let pieces = 0
  let largest = 0
  let total = 0
  r.writeYaml((chunk) => {
    pieces++
    largest = Math.max(largest, chunk.length)
    total += chunk.length
  })
  return {pieces, largest, total}
}

/** Retained size of the compact rule state (what compile keeps for its passes): key bytes and rule count. */
function ruleState(r: CompileResult): {rules: number; keyBytes: number} {
  return {rules: r.aggregate.rules.length, keyBytes: r.aggregate.rules.reduce((a, x) => a + x.key.length, 0)}
}

test('flat memory at small scale: 10x the distinct paths keeps the rule state and the largest written piece the same', async () => {
  // The same routes with 300 and 3,000 distinct ids in one segment: the ids collapse, so the
  // contract has the same rules; what compile holds for the contract must not follow the ids.
  const ids = (n: number): TrafficShape => ({
    routes: [
      {method: 'GET', url: 'https://api.example.com/v1/blobs/{hash}', weight: 5, ids: n},
      {method: 'GET', url: 'https://api.example.com/v1/sessions/{uuid}/events', weight: 3, ids: n},
      {method: 'GET', url: 'https://api.example.com/v1/users/me', weight: 2},
    ],
  })
  const small = await compileShape(ids(300), 6000)
  const large = await compileShape(ids(3000), 6000)
  assert.deepEqual(ruleState(large), ruleState(small))
  const a = yamlPieces(small)
  const b = yamlPieces(large)
  // The same document but for the digits of the collapsed segments' counts (300 → 3000).
  assert.ok(Math.abs(b.total - a.total) < 64, `${b.total} vs ${a.total}`)
  assert.equal(b.pieces, a.pieces)
  assert.ok(b.largest < 65536 + 4096)
})

test('flat memory at small scale: 10x the rules, the YAML is handed out in the same bounded pieces', async () => {
  // Many low-volume hosts: rules grow with the hosts, the largest piece written does not.
  const few = await compileShape(fleetShape(30), 1500, 5)
  const many = await compileShape(fleetShape(300), 15000, 5)
  assert.ok(ruleState(many).rules > 6 * ruleState(few).rules, `${ruleState(many).rules} vs ${ruleState(few).rules}`)
  const a = yamlPieces(few)
  const b = yamlPieces(many)
  assert.ok(b.total > 6 * a.total)
  assert.ok(b.pieces > 6 * a.pieces)
  // ≈ 64 KiB pieces plus at most one line: never the document.
  for (const p of [a, b]) assert.ok(p.largest < 65536 + 4096, `largest piece ${p.largest}`)
})

test('compile reads writer-layout capture lines without JSON.parse to the same contract as the general reader', async () => {
  // Issue 36: compile takes `decodeWriterCapture` for lines in the writer's own layout. The same
  // corpus with every line moved off that layout (a space after `{`: the entry hashes cover the
  // fields, not the spacing) goes through decodeEntry + decodeSummary only; both must give the
  // same contract, review and counts, MCP tool calls and clean/blocked actions included.
  const shape: TrafficShape = {
    routes: [
      ...fleetShape(40).routes,
      {method: 'GET', url: 'https://api.example.com/v1/items/{id}', weight: 6, ids: 50, actionClass: 'read'},
      {method: 'POST', url: 'https://paste.example.org/upload', weight: 1, action: 'block', surface: 'dlp'},
      {method: '', url: '', weight: 2, mcp: {server: 'files-server', tool: 'read_file', args: '{"path":"/tmp/a"}'}},
    ],
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-compile-writer-line-'))
  try {
    const plain = path.join(dir, 'plain')
    const spaced = path.join(dir, 'spaced')
    generateCorpus(plain, {seed: 9, agent: 'stream-agent', sessions: 3, events: 4000, start: '2026-05-01T00:00:00Z', spanSeconds: 6 * 3600, shape})
    let taken = 0
    for (const f of captureFiles(plain)) {
      const text = readFileSync(f, 'utf8')
      for (const l of text.split('\n')) if (decodeWriterCapture(l) !== undefined) taken++
      const out = path.join(spaced, path.relative(plain, f))
      mkdirSync(path.dirname(out), {recursive: true})
      writeFileSync(out, text.replace(/^\{"v":/gm, '{ "v":'))
    }
    assert.ok(taken > 3000, `${taken} lines in the writer layout`)
    const compile = (root: string) =>
      compileContract(
        captureFiles(root).map((name) => ({name})),
        {...CONFIG, includeMcp: true},
        {clock: fixedClock('2026-05-02T00:00:00Z'), signer: {keyPair: keyPairFromSeed(sha256('unit')), keyId: 'unit'}, moduleDigests: buildInfoUnavailableDigests()},
      )
    const a = await compile(plain)
    const b = await compile(spaced)
    assert.ok(a.stats.rules > 100)
    assert.ok(a.aggregate.rules.some((r) => r.tool === 'read_file'))
    assert.equal(a.yaml, b.yaml)
    assert.equal(a.review, b.review)
    assert.deepEqual(a.stats, b.stats)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
