import {test} from 'node:test'
import assert from 'node:assert/strict'
import {CanonicalReader, fromPlain, goJson, JsonNumber, parseStrictJson, projectStruct, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {
  ACTION_RECORD,
  classifyLine,
  classifyLineInFull,
  encodeActionReceipt,
  ReceiptChainBuilder,
  RecorderEntryChain,
  signActionReceipt,
  type ActionReceipt,
} from '../../../src/plugins/receipts/index.js'
import {readCanonicalReceiptEntry} from '../../../src/plugins/receipts/canonical-line.js'
import {action, keyA, keyB, run} from '../../helpers/receipt-fixtures.js'
import {prng} from '../../helpers/prng.js'
import {readVector} from '../../helpers/vectors.js'

// Differential test of the one-pass reading of canonical receipt lines (issue 11): for every
// line, classifyLine (fast path first) must give exactly what the full strict reading gives
// (classifyLineInFull, the oracle) — the same entry, receipt, record in the same key order and
// canonical bytes — or the same error; and the fast path must really be taken on the lines the
// recorders write, and declined on every line whose text is not already canonical.

/** A tree as comparable data: Maps keep their key order, numbers their lexeme. */
function norm(v: unknown): unknown {
  if (v instanceof Map) return {map: [...v].map(([k, x]) => [k, norm(x)])}
  if (v instanceof JsonNumber) return {number: v.text}
  if (Array.isArray(v)) return v.map(norm)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]))
  return v
}

function outcome(f: () => unknown): unknown {
  try {
    return {ok: norm(f())}
  } catch (e) {
    return {error: (e as Error).name + ': ' + (e as Error).message}
  }
}

function sameAsFull(line: string): void {
  const fast = outcome(() => {
    const c = classifyLine(line)
    if (c.item?.kind === 'receipt' && c.item.receiptJson !== undefined) {
      // the receipt's GoJSON handed on as text: exactly what encodeActionReceipt writes
      assert.equal(c.item.receiptJson, encodeActionReceipt(c.item.receipt))
      delete c.item.receiptJson
    }
    return c
  })
  assert.deepEqual(fast, outcome(() => classifyLineInFull(line)), line)
}

/** A recorder chain with every kind of receipt the builder writes, and optional fields set. */
function builtLines(): string[] {
  const b = new ReceiptChainBuilder(keyA())
  const entries = new RecorderEntryChain('proxy')
  const rs: ActionReceipt[] = []
  rs.push(b.openRun(run(1, 'epoch-A'), {actionId: 'open-1', timestamp: '2026-11-22T09:00:00Z', principal: 'org:p', actor: 'agent:a', policyHash: 'sha256:' + 'cd'.repeat(32)}))
  rs.push(b.append(action('a-1', '2026-11-22T09:00:01.5Z', 'read')))
  rs.push(
    b.append(
      action('a-2', '2026-11-22T10:00:01.123456789+02:00', 'write', {
        intent: 'fetch the page',
        data_classes_in: ['pii', 'secrets'],
        delegation_chain: ['policy-v1', 'grant'],
        session_contaminated: true,
        contract_generation: 18,
        layer: 'dlp',
        pattern: 'AWS Access Key',
        severity: 'high',
        verdict: 'block',
      }),
    ),
  )
  rs.push(b.append(action('a-3', '2026-11-22T09:00:03Z', 'read', {delegation_chain: []})))
  rs.push(b.heartbeat({actionId: 'hb-1', timestamp: '2026-11-22T09:00:30Z'}))
  rs.push(b.closeRun({actionId: 'close-1', timestamp: '2026-11-22T09:01:00Z'}))
  rs.push(b.openRun(run(2, 'epoch-A'), {actionId: 'open-2', timestamp: '2026-11-22T09:02:00Z'}))
  rs.push(b.append(action('a-4', '2026-11-22T09:02:01Z', 'read', {target: 'https://example.com/a?b=<c>&d'})))
  rs.push(b.append(action('a-5', '2026-11-22T09:02:02Z', 'read', {target: 'https://example.com/ünïcode'})))
  rs.push(b.append(action('a-6', '2026-11-22T09:02:03Z', 'read', {redaction: {profile: 'p', by_class: {email: 2}}})))
  b.rotateKey(keyB(), '2026-11-22T09:03:00Z', 'proxy')
  rs.push(b.openRun(run(3, 'epoch-B'), {actionId: 'open-3', timestamp: '2026-11-22T09:03:01Z'}))
  rs.push(b.append(action('a-7', '2026-11-22T09:03:02Z', 'read', {recent_taint_sources: [{url: 'https://x', kind: 'k', level: 2, timestamp: '2026-11-22T09:00:00Z'}]})))
  const out = rs.map((r, i) => entries.receiptEntry(r, i % 2 === 0 ? '2026-11-22T09:00:00Z' : '2026-11-22T09:00:00.25+01:00').line)
  // a receipt with `ext` (its bytes enter the receipt hash: always the full reading)
  out.push(entries.receiptEntry({...(rs[1] as ActionReceipt), ext: '{"note":1}'}, '2026-11-22T09:04:00Z').line)
  out.push(entries.checkpoint('2026-11-22T09:05:00Z', 0n).line)
  return out
}

const vectorLines = ['valid-chain.jsonl', 'broken-chain.jsonl', 'synthetic/synthetic-v1-session-rotation.jsonl'].flatMap((f) =>
  readVector('receipts', f).split('\n').map((l) => l.trim()).filter((l) => l !== ''),
)

const DECLINED = ['a-4', 'a-5', 'a-6', 'a-7', 'a-1', 'checkpoint', 'checkpoint']

test('recorder lines: the one-pass reading equals the full reading, and is taken on canonical receipts', () => {
  const lines = [...builtLines(), ...vectorLines]
  let taken = 0
  for (const line of lines) {
    sameAsFull(line)
    const fast = readCanonicalReceiptEntry(line)
    if (fast === undefined) continue
    taken++
    // the oracle of the canonical bytes: GoJSON of the projection of the parsed record
    const detail = parseStrictJson(fast.entry.detailRaw).value as Map<string, JsonValue>
    assert.equal(fast.receipt.recordJson, goJson(projectStruct(ACTION_RECORD, detail.get('action_record'))))
  }
  // declined: the `<>&` target, the non-ASCII target, the redaction map, the taint-source array,
  // the receipt with ext (a-1 again), the checkpoints; every other receipt line is taken
  const declined = lines.filter((l) => readCanonicalReceiptEntry(l) === undefined)
  assert.deepEqual(
    declined.map((l) => /"action_id":"([^"]+)"/.exec(l)?.[1] ?? /"type":"([^"]+)"/.exec(l)?.[1]),
    DECLINED,
  )
  assert.equal(taken, lines.length - declined.length)
})

const sample = builtLines()[1] as string // an ordinary receipt in canonical form

// Each edit keeps the line valid JSON (mostly a valid entry) but not in canonical form, or not
// a line the fast path handles: declined, and the full reading decides (value or error).
const declinedEdits: [string, (l: string) => string][] = [
  ['space after a colon', (l) => l.replace('"action_id":', '"action_id": ')],
  ['space after the line', (l) => l.replace(/}$/, ' }')],
  ['escape in a record string', (l) => l.replace('"action_id":"a-1"', '"action_id":"a\\u002d1"')],
  ['escape in an entry string', (l) => l.replace('"session_id":"proxy"', '"session_id":"pro\\u0078y"')],
  ['HTML character in a record string', (l) => l.replace('"actor":"agent:synthetic"', '"actor":"agent<synthetic"')],
  ['non-ASCII in a record string', (l) => l.replace('"actor":"agent:synthetic"', '"actor":"agént"')],
  ['record keys out of order', (l) => l.replace('"principal":"org:synthetic","actor":"agent:synthetic"', '"actor":"agent:synthetic","principal":"org:synthetic"')],
  ['unknown record key', (l) => l.replace('"principal":', '"zzz":1,"principal":')],
  ['duplicate record key', (l) => l.replace('"principal":"org:synthetic"', '"principal":"org:synthetic","principal":"x"')],
  ['omitempty zero value present', (l) => l.replace('"method":"GET"', '"method":""')],
  ['non-omitempty field missing', (l) => l.replace('"principal":"org:synthetic",', '')],
  ['delegation_chain missing', (l) => l.replace('"delegation_chain":null,', '')],
  ['integer 1.0', (l) => l.replace('"action_record":{"version":1', '"action_record":{"version":1.0')],
  ['integer 1e0', (l) => l.replace('"action_record":{"version":1', '"action_record":{"version":1e0')],
  ['integer with a leading zero', (l) => l.replace(/"chain_seq":(\d+)/, '"chain_seq":0$1')],
  ['negative integer', (l) => l.replace(/"chain_seq":(\d+)/, '"chain_seq":-$1')],
  ['sixteen-digit integer', (l) => l.replace(/"chain_seq":(\d+)/, '"chain_seq":1000000000000000')],
  ['time with +00:00', (l) => l.replace('"timestamp":"2026-11-22T09:00:01.5Z"', '"timestamp":"2026-11-22T09:00:01.5+00:00"')],
  ['time with a trailing zero', (l) => l.replace('"timestamp":"2026-11-22T09:00:01.5Z"', '"timestamp":"2026-11-22T09:00:01.50Z"')],
  ['time that does not parse', (l) => l.replace('"timestamp":"2026-11-22T09:00:01.5Z"', '"timestamp":"2026-11-31T09:00:01.5Z"')],
  ['entry ts that does not parse', (l) => l.replace(/"ts":"[^"]+"/, '"ts":"yesterday"')],
  ['entry seq with a leading zero', (l) => l.replace('"seq":1,', '"seq":01,')],
  ['entry version 3', (l) => l.replace('{"v":2,', '{"v":3,')],
  ['entry version 20', (l) => l.replace('{"v":2,', '{"v":20,')],
  ['entry keys out of order', (l) => l.replace(/"session_id":"proxy","type":"action_receipt"/, '"type":"action_receipt","session_id":"proxy"')],
  ['unknown entry key', (l) => l.replace('"summary":', '"extra":1,"summary":')],
  ['receipt keys out of order', (l) => l.replace(/"signature":("[^"]+"),"signer_key":("[^"]+")/, '"signer_key":$2,"signature":$1')],
  ['bool false on an omitempty field', (l) => l.replace('"verdict":"allow"', '"verdict":"allow","session_contaminated":false')],
  ['session_control with two payloads', (l) => l.replace(/"chain_seq":(\d+)/, '"chain_seq":$1,"session_control":{"kind":"heartbeat"}')],
  ['detail as a JSON string', (l) => l.replace(/"detail":(\{.*\}),"prev_hash"/, (_m, d: string) => `"detail":${JSON.stringify(d)},"prev_hash"`)],
  ['truncated', (l) => l.slice(0, -2)],
]

// Canonical still (the checks after reading reject some of them): taken, and equal to the full reading.
const acceptedEdits: [string, (l: string) => string][] = [
  ['receipt version 2', (l) => l.replace('"detail":{"version":1', '"detail":{"version":2')],
  ['record version 2', (l) => l.replace('"action_record":{"version":1', '"action_record":{"version":2')],
  ['empty non-omitempty string', (l) => l.replace('"principal":"org:synthetic"', '"principal":""')],
  ['omitempty string set', (l) => l.replace('"verdict":"allow"', '"verdict":"allow","decision_phase":"pre"')],
  ['bool true on an omitempty field', (l) => l.replace('"verdict":"allow"', '"verdict":"allow","session_contaminated":true')],
  ['unknown action_type', (l) => l.replace('"action_type":"read"', '"action_type":"look"')],
  ['signature not hex', (l) => l.replace(/"signature":"ed25519:[0-9a-f]{4}/, '"signature":"ed25519:zzzz')],
  ['entry v 1', (l) => l.replace('{"v":2,', '{"v":1,')],
  ['entry seq absent', (l) => l.replace('"seq":1,', '')],
  ['entry strings absent', (l) => l.replace(/,"event_kind":"[^"]*","transport":"[^"]*","summary":"[^"]*"/, '')],
  ['non-ASCII in an entry string', (l) => l.replace(/"summary":"[^"]*"/, '"summary":"reçu ✓"')],
]

test('canonical edits of a receipt line are taken and read as the full reading reads them', () => {
  for (const [name, edit] of acceptedEdits) {
    const line = edit(sample)
    assert.notEqual(line, sample, `${name}: the edit applies`)
    assert.notEqual(readCanonicalReceiptEntry(line), undefined, `${name}: taken`)
    sameAsFull(line)
  }
})

test('non-canonical edits of a receipt line are declined and read in full (same value or same error)', () => {
  assert.notEqual(readCanonicalReceiptEntry(sample), undefined)
  for (const [name, edit] of declinedEdits) {
    const line = edit(sample)
    assert.notEqual(line, sample, `${name}: the edit applies`)
    assert.equal(readCanonicalReceiptEntry(line), undefined, `${name}: declined`)
    sameAsFull(line)
  }
})

test('random edits of canonical lines: the one-pass reading agrees with the full reading on every one', () => {
  const random = prng(11)
  const lines = builtLines().filter((l) => readCanonicalReceiptEntry(l) !== undefined)
  const alphabet = ['"', '\\', ',', ':', '{', '}', '[', ']', ' ', '0', '1', '9', '-', '.', 'e', 'a', 'Z', '<', '&', 'é', '\u2028', 'n', 'u', 'l', 't']
  let accepted = 0
  for (let i = 0; i < 4000; i++) {
    const line = lines[Math.floor(random() * lines.length)] as string
    const at = Math.floor(random() * line.length)
    const ch = alphabet[Math.floor(random() * alphabet.length)] as string
    const kind = Math.floor(random() * 3)
    const mutated = kind === 0 ? line.slice(0, at) + ch + line.slice(at + 1) : kind === 1 ? line.slice(0, at) + ch + line.slice(at) : line.slice(0, at) + line.slice(at + 1)
    if (readCanonicalReceiptEntry(mutated) !== undefined) accepted++
    sameAsFull(mutated)
  }
  // edits inside values (a letter, a digit) keep a line canonical: those were compared accepted
  assert.ok(accepted > 200, `accepted mutated lines: ${accepted}`)
})

test('CanonicalReader.struct: value equals the projection of the parse, and goJson gives the text back', () => {
  const random = prng(7)
  const key = keyA()
  for (let i = 0; i < 200; i++) {
    const extra: Record<string, unknown> = {}
    if (random() < 0.5) extra.intent = 'x'.repeat(Math.floor(random() * 3))
    if (random() < 0.5) extra.session_contaminated = random() < 0.5
    if (random() < 0.5) extra.contract_generation = Math.floor(random() * 3)
    if (random() < 0.5) extra.delegation_chain = random() < 0.5 ? [] : ['a']
    if (random() < 0.3) extra.data_classes_out = random() < 0.5 ? [] : ['b', 'c']
    const r = signActionReceipt(fromPlain({version: 1, chain_prev_hash: 'genesis', chain_seq: i, ...action(`s-${i}`, '2026-11-22T09:00:00Z', 'read', extra)}), key)
    const text = r.recordJson
    const reader = new CanonicalReader(text)
    const value = reader.struct(ACTION_RECORD)
    assert.ok(value !== undefined && reader.done, text)
    assert.deepEqual(norm(value), norm(projectStruct(ACTION_RECORD, parseStrictJson(text).value)))
    assert.equal(goJson(value), text)
  }
})
