import {before, test} from 'node:test'
import {createHash} from 'node:crypto'
import assert from 'node:assert/strict'
import {closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {canonicalBytes, emitSignedYaml, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {contractHash, contractProblem, decodeEnvelope, readEnvelopeTail, signCanonical, streamContractEnvelope, streamContractEnvelopeFd, streamContractEnvelopeVerifyingFd} from '../../../src/plugins/contracts/index.js'
import {keyPairFromSeed, loadEd25519Arithmetic, sha256, verifyBytes} from '../../../src/plugins/signing/index.js'
import {applyDecisions, deterministicKey, resignContract} from '../../../src/plugins/learn/index.js'
import {GOLDEN_CORPORA} from '../../../bench/corpus-goldens.js'
import {repoPath} from '../../helpers/vectors.js'
import {prng} from '../../helpers/prng.js'

// The streaming contract read (issue 17) against the ordinary load, as a differential: wherever
// it answers, the ordinary load succeeds with the same rules (in order), the same body, the same
// signed bytes and signature; wherever the ordinary load fails, it declines (undefined), so the
// ordinary load words the error. Inputs: every golden candidate, its two ratifications, and
// seeded line mutations of them (invalid states, unknown fields, floats, comments, deletions).
// The same read from a file a chunk at a time (`streamContractEnvelopeFd`, chunks of a few bytes
// to 64 KiB, so that lines and multi-byte characters are cut) answers as the read of the text.

type Outcome = {ok: true; rules: JsonObject[]; body: JsonObject; canonical: Buffer; signature: string} | {ok: false}

function ordinary(text: string, file: string): Outcome {
  try {
    const env = decodeEnvelope(text, file)
    if (contractProblem(env.body) !== undefined) return {ok: false}
    const rules = (env.body.get('rules') as JsonObject[] | null) ?? []
    return {ok: true, rules, body: new Map(env.body).set('rules', rules.length > 0 ? [] : env.body.get('rules') ?? null), canonical: canonicalBytes(env.body), signature: env.signature}
  } catch {
    return {ok: false}
  }
}

/** The ordinary load alone (`loadContract`: decode and validate, no canonical bytes), as `learn review` reads a candidate. */
function ordinaryLoad(text: string, file: string): {ok: true; rules: JsonObject[]; body: JsonObject; signature: string} | {ok: false} {
  try {
    const env = decodeEnvelope(text, file)
    if (contractProblem(env.body) !== undefined) return {ok: false}
    const rules = (env.body.get('rules') as JsonObject[] | null) ?? []
    return {ok: true, rules, body: new Map(env.body).set('rules', rules.length > 0 ? [] : env.body.get('rules') ?? null), signature: env.signature}
  } catch {
    return {ok: false}
  }
}

function streamed(text: string, file: string): Outcome {
  const rules: JsonObject[] = []
  const s = streamContractEnvelope(text, file, (rule, i) => {
    assert.equal(i, rules.length, 'rules arrive in order')
    rules.push(rule)
  })
  return s === undefined ? {ok: false} : {ok: true, rules, body: s.body, canonical: s.canonical, signature: s.signature}
}

// The verifying read's curve arithmetic (`learn shadow` loads it before the contract).
before(loadEd25519Arithmetic)

const scratch = mkdtempSync(path.join(tmpdir(), 'pl-contract-stream-'))
process.on('exit', () => rmSync(scratch, {recursive: true, force: true}))

/** Writes `bytes` to `name` in the scratch directory and reads it with `read`, collecting the rules it hands out (in order). */
function fromFile<T>(name: string, bytes: Buffer | string, read: (fd: number, file: string, onRule: (rule: JsonObject, i: number) => void) => T): {rules: JsonObject[]; result: T} {
  const file = path.join(scratch, name)
  writeFileSync(file, bytes)
  const fd = openSync(file, 'r')
  try {
    const rules: JsonObject[] = []
    const result = read(fd, file, (rule, i) => {
      assert.equal(i, rules.length, 'rules arrive in order')
      rules.push(rule)
    })
    return {rules, result}
  } finally {
    closeSync(fd)
  }
}

/** `streamContractEnvelopeFd` over `bytes` written to a file, read `chunkBytes` at a time. */
function streamedFromFile(bytes: Buffer | string, chunkBytes: number): Outcome {
  const {rules, result: s} = fromFile('contract.yaml', bytes, (fd, file, onRule) => streamContractEnvelopeFd(fd, file, onRule, {chunkBytes}))
  return s === undefined ? {ok: false} : {ok: true, rules, body: s.body, canonical: s.canonical, signature: s.signature}
}

/** The file read without signed bytes (`canonical: false`, `learn review`): the rules and the body. */
function streamedBodyFromFile(bytes: string, chunkBytes: number): {ok: true; rules: JsonObject[]; body: JsonObject; signature: string; ruleCount: number} | {ok: false} {
  const {rules, result: s} = fromFile('contract-body.yaml', bytes, (fd, file, onRule) => streamContractEnvelopeFd(fd, file, onRule, {chunkBytes, canonical: false}))
  if (s !== undefined) assert.equal('canonical' in s, false, 'no signed bytes are assembled')
  return s === undefined ? {ok: false} : {ok: true, rules, body: s.body, signature: s.signature, ruleCount: s.ruleCount}
}

/** The file read that checks the signature as the rules pass (`learn shadow`), by `key`, with the signature its tail names. */
function verifyingFromFile(bytes: string, chunkBytes: number, key: Uint8Array): {ok: true; rules: JsonObject[]; body: JsonObject; signature: string; verified: boolean; sha256Hex?: string} | {ok: false; tail: boolean} {
  const {rules, result} = fromFile('contract-verifying.yaml', bytes, (fd, file, onRule) => {
    const tail = readEnvelopeTail(fd)
    return tail.signature === undefined ? 'no tail' : streamContractEnvelopeVerifyingFd(fd, file, onRule, key, tail.signature, {chunkBytes})
  })
  if (result === 'no tail') return {ok: false, tail: false}
  return result === undefined ? {ok: false, tail: true} : {ok: true, rules, body: result.body, signature: result.signature, verified: result.verified, ...(result.sha256Hex === undefined ? {} : {sha256Hex: result.sha256Hex})}
}

/** The keys the contracts below are signed by: the golden fixtures' compile signer and the ratifications' deterministic key. */
const GOLDEN_KEY = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey
const RATIFY_KEY = deterministicKey('ratifyCompile').keyPair.publicKey

/** Wherever the file read answers, the text read answers the same. */
function assertFileReadAgrees(name: string, text: string, fromText: Outcome, chunkBytes: number): Outcome {
  const got = streamedFromFile(text, chunkBytes)
  if (got.ok) {
    assert.ok(fromText.ok, `${name}: the file read answered where the text read declined (chunks of ${chunkBytes})`)
    assert.deepEqual(got.rules, fromText.rules, name)
    assert.deepEqual(got.body, fromText.body, name)
    assert.ok(got.canonical.equals(fromText.canonical), `${name}: signed bytes differ (chunks of ${chunkBytes})`)
    assert.equal(got.signature, fromText.signature, name)
  }
  return got
}

/** Read sizes for the mutations (one each, in turn); the unmodified contracts are read in every one and in 1 and 7 bytes. */
const CHUNKS = [64, 1000, 4096, 65536]

const MUTATIONS: ((lines: string[], r: () => number) => void)[] = [
  (l, r) => swapFirst(l, r, /lifecycle_state: \w+/, 'lifecycle_state: bogus_state'),
  (l, r) => swapFirst(l, r, /lifecycle_state: \w+/, 'lifecycle_state: enforce'),
  (l, r) => swapFirst(l, r, /rule_kind: \w+/, 'rule_kind: mcp_tool_call'),
  (l, r) => swapFirst(l, r, /max: \d+/, 'max: 1.5'),
  (l, r) => swapFirst(l, r, /required_capture_grade: \w+/, 'required_capture_grade: partial'),
  (l, r) => swapFirst(l, r, /observed_capture_grade: \w+/, 'observed_capture_grade: none'),
  (l, r) => swapFirst(l, r, /data_class: \w+/, 'data_class: regulated'),
  (l, r) => {
    const i = pickLine(l, r, (s) => /^ +rule_id: /.test(s))
    if (i >= 0) l.splice(i, 0, (l[i] as string).replace(/rule_id: .*/, 'unexpected_field: 1'))
  },
  (l, r) => {
    const i = Math.floor(r() * l.length)
    l.splice(i, 1)
  },
  (l, r) => {
    const i = Math.floor(r() * l.length)
    l.splice(i, 0, '# a comment')
  },
  (l, r) => swapFirst(l, r, /signature: ed25519:[0-9a-f]/, 'signature: ed25519:0'),
  (l, r) => swapFirst(l, r, /value: \/[^ ]*/, 'value: "/v1/caf\\u00e9"'),
  // data_class_root decides whether every rule's leaves must be covered (issue 18: the streamed
  // read skips collecting them once a non-empty root was read before the rules).
  (l) => swapFirst(l, () => 0, /data_class_root: .*/, 'data_class_root: ""'),
  (l) => swapFirst(l, () => 0, /data_class_root: .*/, 'data_class_root: 5'),
  (l, r) => moveAfterRules(l, r() < 0.5 ? 'data_class_root: ""' : undefined),
]

/** Moves the body's `data_class_root` line (optionally replaced) after its rules. */
function moveAfterRules(lines: string[], replacement: string | undefined): void {
  const at = lines.findIndex((s) => /^ {4}data_class_root: /.test(s))
  const start = lines.findIndex((s) => /^ {4}rules:$/.test(s))
  if (at < 0 || start < 0) return
  let end = start + 1
  while (end < lines.length && /^ {6,}/.test(lines[end] as string)) end++
  const line = replacement === undefined ? (lines[at] as string) : `    ${replacement}`
  lines.splice(end, 0, line)
  lines.splice(at, 1)
}

function pickLine(lines: string[], r: () => number, want: (s: string) => boolean): number {
  const hits = lines.flatMap((s, i) => (want(s) ? [i] : []))
  return hits.length === 0 ? -1 : (hits[Math.floor(r() * hits.length)] as number)
}

function swapFirst(lines: string[], r: () => number, re: RegExp, by: string): void {
  const i = pickLine(lines, r, (s) => re.test(s))
  if (i >= 0) lines[i] = (lines[i] as string).replace(re, by)
}

function contracts(): {name: string; text: string}[] {
  const out: {name: string; text: string}[] = []
  for (const c of GOLDEN_CORPORA) {
    const file = repoPath('goldens', c.name, 'contract.yaml')
    const text = readFileSync(file, 'utf8')
    out.push({name: c.name, text})
    const env = decodeEnvelope(text, file)
    const rules = env.body.get('rules') as JsonObject[]
    const hasPaths = (x: JsonObject): boolean => (x.get('selector') as JsonObject).has('paths')
    for (const mode of ['all', 'strict'] as const) {
      const applied = applyDecisions(env.body, rules.map((x) => (mode === 'all' || hasPaths(x) ? 'enforce' : 'reject')))
      out.push({name: `${c.name} ${mode}`, text: resignContract(applied.body, deterministicKey('ratifyCompile'), 'learn ratify').yaml})
    }
  }
  return out
}

test('streamContractEnvelope answers exactly as the ordinary load, or declines (golden candidates, ratifications, 1,200 mutations)', () => {
  const r = prng(17)
  let answered = 0
  let declined = 0
  let compared = 0
  let fileAnswered = 0
  let bareAnswered = 0
  let bareOnly = 0
  let verifiedCount = 0
  let verifyingAnswered = 0
  let undecided = 0
  const check = (name: string, text: string, key: Uint8Array): void => {
    const file = '/x/contract.yaml'
    const want = ordinary(text, file)
    const got = streamed(text, file)
    compared++
    const chunk = CHUNKS[compared % CHUNKS.length] as number
    const fromFile = assertFileReadAgrees(name, text, got, chunk)
    if (fromFile.ok) fileAnswered++
    // Checking the signature as the rules pass: it says verified only where node:crypto's check
    // over the whole signed bytes does (a wrong yes would let a tampered contract in), and
    // otherwise only where the body's members are not in our emitter's order (a member moved
    // after the rules: the body's opening read at the first rule differs; the caller then reads
    // the signed bytes whole).
    const verifying = verifyingFromFile(text, chunk, key)
    if (verifying.ok) {
      verifyingAnswered++
      assert.ok(fromFile.ok, `${name}: the verifying read answered where the signed-bytes read declined`)
      assert.deepEqual(verifying.rules, fromFile.rules, name)
      assert.deepEqual(verifying.body, fromFile.body, name)
      assert.equal(verifying.signature, fromFile.signature, name)
      const m = /^ed25519:([0-9a-f]{128})$/i.exec(fromFile.signature)
      const whole = m !== null && verifyBytes(key, fromFile.canonical, Buffer.from(m[1] as string, 'hex'))
      if (verifying.verified) assert.ok(whole, `${name}: verified as the rules passed, not over the whole signed bytes`)
      else if (whole) {
        assert.match(name, / mutation 14 #/, `${name}: not verified as the rules passed, verified over the whole signed bytes`)
        undecided++
      }
      if (verifying.verified) verifiedCount++
      const h = fromFile.body.get('contract_hash')
      // The report's hash of a body without contract_hash: made beside the check, whenever it verified.
      if (typeof h === 'string' && h !== '') assert.equal(verifying.sha256Hex, undefined, name)
      else if (verifying.verified || verifying.sha256Hex !== undefined) assert.equal(verifying.sha256Hex, createHash('sha256').update(fromFile.canonical).digest('hex'), name)
    } else if (fromFile.ok) assert.equal(verifying.tail, false, `${name}: the verifying read declined a contract the signed-bytes read answers for`)
    // Without the signed bytes: answers wherever the signed read does, and only with what the
    // ordinary load alone gives (it canonicalises nothing either: a float, which canonical bytes
    // refuse, is read by both).
    const bare = streamedBodyFromFile(text, chunk)
    if (fromFile.ok) assert.ok(bare.ok, `${name}: declined without the signed bytes`)
    if (bare.ok) {
      bareAnswered++
      const loads = ordinaryLoad(text, file)
      assert.ok(loads.ok, `${name}: streamed without the signed bytes a contract the ordinary load refuses`)
      assert.deepEqual(bare.rules, loads.rules, name)
      assert.deepEqual(bare.body, loads.body, name)
      assert.equal(bare.signature, loads.signature, name)
      assert.equal(bare.ruleCount, loads.rules.length, name)
      if (!fromFile.ok) bareOnly++
    }
    if (!got.ok) {
      declined++
      return
    }
    answered++
    assert.ok(want.ok, `${name}: streamed a contract the ordinary load refuses`)
    assert.deepEqual(got.rules, want.rules, name)
    assert.deepEqual(got.body, want.body, name)
    assert.ok(got.canonical.equals(want.canonical), `${name}: signed bytes differ`)
    assert.equal(got.signature, want.signature, name)
  }
  const base = contracts()
  const keyOf = (c: {name: string}): Uint8Array => (/ (all|strict)$/.test(c.name) ? RATIFY_KEY : GOLDEN_KEY)
  for (const c of base) {
    check(c.name, c.text, keyOf(c))
    // Every unmodified contract is verified as its rules pass, by its key and by no other.
    assert.equal((verifyingFromFile(c.text, 4096, keyOf(c)) as {verified?: boolean}).verified, true, `${c.name}: verified as read`)
    assert.equal((verifyingFromFile(c.text, 4096, keyOf(c) === GOLDEN_KEY ? RATIFY_KEY : GOLDEN_KEY) as {verified?: boolean}).verified, false, `${c.name}: verified by another key`)
    // Every unmodified golden contract is one the streaming read answers for, from its text and
    // from its file in chunks of every size tried.
    assert.equal(streamed(c.text, '/x/contract.yaml').ok, true, `${c.name}: streamed`)
    for (const chunk of [1, 7, ...CHUNKS]) assert.equal(assertFileReadAgrees(c.name, c.text, streamed(c.text, '/x/contract.yaml'), chunk).ok, true, `${c.name}: from its file in chunks of ${chunk}`)
  }
  for (let k = 0; k < 1200; k++) {
    const c = base[Math.floor(r() * base.length)] as {name: string; text: string}
    const lines = c.text.split('\n')
    const m = Math.floor(r() * MUTATIONS.length)
    ;(MUTATIONS[m] as (l: string[], r: () => number) => void)(lines, r)
    check(`${c.name} mutation ${m} #${k}`, lines.join('\n'), keyOf(c))
  }
  assert.equal(compared, base.length + 1200)
  // The file read answers wherever the text read does, bar non-UTF-8 bytes (none here).
  assert.equal(fileAnswered, answered)
  // The verifying read answers where the signed-bytes read does (a signature line that is not
  // the tail's own aside), and verifies the unmodified contracts and the mutations that keep
  // the signed bytes (comments in the rules decline before that).
  assert.ok(verifyingAnswered > answered - 50 && verifyingAnswered <= answered, `verifying ${verifyingAnswered} of ${answered}`)
  assert.ok(verifiedCount >= base.length, `verified ${verifiedCount}`)
  assert.ok(undecided > 0, 'a member moved after the rules is left to the whole signed bytes')
  // Without the signed bytes it answers for those too, and for contracts only canonicalisation
  // refuses (floats: `max: 1.5`).
  assert.equal(bareAnswered, answered + bareOnly)
  assert.ok(bareOnly > 0, `answered only without the signed bytes: ${bareOnly}`)
  // Both branches are exercised by the mutations.
  assert.ok(answered > base.length, `answered ${answered}`)
  assert.ok(declined > 100, `declined ${declined}`)
})

test('streamContractEnvelope declines JSON, an empty rules list is not streamed, a bad signature still streams (verification decides)', () => {
  const c = contracts()[1] as {name: string; text: string}
  assert.equal(streamContractEnvelope(c.text, '/x/contract.json', () => {}), undefined)
  const lines = c.text.split('\n')
  const start = lines.findIndex((s) => /^ {4}rules:$/.test(s))
  let end = start + 1
  while (end < lines.length && /^ {6,}/.test(lines[end] as string)) end++
  lines.splice(start, end - start, '    rules: []')
  const text = lines.join('\n')
  const want = ordinary(text, '/x/c.yaml')
  const got = streamed(text, '/x/c.yaml')
  // An empty rule list may fail the ordinary checks or not; either way both agree.
  assert.equal(got.ok, want.ok)
  if (got.ok && want.ok) {
    assert.equal(got.rules.length, 0)
    assert.ok(got.canonical.equals(want.canonical))
  }
  const badSig = c.text.replace(/signature: ed25519:[0-9a-f]{4}/, 'signature: ed25519:0000')
  const s = streamed(badSig, '/x/c.yaml')
  assert.equal(s.ok, true)
})

test('streamContractEnvelope with an empty data_class_root before or after the rules: every leaf covered answers as the ordinary load, one leaf missing declines', () => {
  const c = contracts()[0] as {name: string; text: string}
  const env = decodeEnvelope(c.text, '/x/c.yaml')
  // Every leaf path of the body as the coverage walk names them (rules under `rules[]`).
  const leaves = new Set<string>()
  const walk = (v: unknown, p: string): void => {
    if (v instanceof Map) {
      for (const [k, x] of v as Map<string, unknown>) if (!(p === '' && (k === 'data_class_root' || k === 'field_data_classes'))) walk(x, p === '' ? k : `${p}.${k}`)
    } else if (Array.isArray(v)) for (const x of v) walk(x, `${p}[]`)
    else leaves.add(p)
  }
  walk(env.body, '')
  const sorted = [...leaves].sort()
  assert.ok(sorted.some((p) => p.startsWith('rules[].')), 'rules have leaves')
  for (const after of [false, true]) {
    for (const drop of [undefined, sorted.find((p) => p.startsWith('rules[].selector'))]) {
      const lines = c.text.split('\n')
      const fdc = lines.findIndex((x) => /^ {4}field_data_classes: \{\}$/.test(x))
      assert.ok(fdc >= 0)
      lines.splice(fdc, 1, '    field_data_classes:', ...sorted.filter((p) => p !== drop).map((p) => `        "${p}": internal`))
      if (after) moveAfterRules(lines, 'data_class_root: ""')
      else swapFirst(lines, () => 0, /data_class_root: .*/, 'data_class_root: ""')
      const text = lines.join('\n')
      const want = ordinary(text, '/x/c.yaml')
      const got = streamed(text, '/x/c.yaml')
      assert.equal(want.ok, drop === undefined, `ordinary, after=${after} drop=${drop}`)
      assert.equal(got.ok, want.ok, `streamed, after=${after} drop=${drop}`)
      if (got.ok && want.ok) {
        assert.deepEqual(got.rules, want.rules)
        assert.ok(got.canonical.equals(want.canonical))
      }
    }
  }
})

test('streamContractEnvelopeFd: characters of two and three bytes cut by chunks read the same; the file read declines what the text read declines, and bytes that are not UTF-8', () => {
  const c = contracts()[0] as {name: string; text: string}
  // A rule path with characters of two and three bytes, and one past U+FFFF escaped, read in
  // chunks that cut them at every byte (a streamed contract need not verify: its caller checks
  // the signature).
  const escaped = c.text.replace(/value: \/[^ \n]*/, 'value: "/v1/caf\\u00e9/\\u20ac/\\U0001F600"')
  const plain = c.text.replace(/value: \/[^ \n]*/, 'value: /v1/café/€/中')
  for (const text of [escaped, plain]) {
    const fromText = streamed(text, '/x/c.yaml')
    for (const chunk of [1, 2, 3, 5, 4096]) assert.equal(assertFileReadAgrees('multi-byte', text, fromText, chunk).ok, fromText.ok, `chunks of ${chunk}`)
  }
  assert.equal(streamed(plain, '/x/c.yaml').ok, true, 'é, € and 中 are in the subset')
  // Declined alike: no final newline, a tab, a character past U+FFFF, a byte-order mark, a merge
  // key, flow nesting past 512.
  const declinedAlike = [
    c.text.slice(0, -1),
    c.text.replace('rules:', 'rules:\t'),
    c.text.replace(/value: \/[^ \n]*/, 'value: /v1/\u{1f600}'),
    '\ufeff' + c.text,
    c.text.replace(/\n/, '\n<<: {}\n'),
    c.text.replace(/value: \/[^ \n]*/, `value: "${'['.repeat(513)}"`),
  ]
  for (const [k, text] of declinedAlike.entries()) {
    assert.equal(streamed(text, '/x/c.yaml').ok, false, `text read, case ${k}`)
    for (const chunk of [1, 4096, 65536]) assert.equal(streamedFromFile(text, chunk).ok, false, `file read, case ${k}, chunks of ${chunk}`)
  }
  // A byte that is not UTF-8 inside a value: the file read declines (the ordinary load decides).
  const bytes = Buffer.from(plain)
  const at = bytes.indexOf('/v1/caf')
  bytes[at + 1] = 0xff
  for (const chunk of [1, 4096]) assert.equal(streamedFromFile(bytes, chunk).ok, false, `invalid UTF-8, chunks of ${chunk}`)
  assert.equal(streamedFromFile(Buffer.alloc(0), 4096).ok, false, 'an empty file')
  assert.equal(streamedFromFile('   \n\n', 4096).ok, false, 'white space only')
})

test('the verifying read: a body signed with an empty contract_hash gets the report hash made beside the check; a signature line other than the envelope\'s, or none, is not verified', () => {
  const text = readFileSync(repoPath('goldens', 'multi-session', 'contract.yaml'), 'utf8')
  const env = decodeEnvelope(text, '/x/contract.yaml')
  const key = keyPairFromSeed(sha256('pipelock-contract-stream-test'))
  const body = new Map(env.body).set('contract_hash', '')
  const yaml = emitSignedYaml(new Map<string, JsonValue>([['body', body], ['signature', signCanonical(body, key)]]))
  const read = verifyingFromFile(yaml, 4096, key.publicKey)
  assert.ok(read.ok)
  assert.equal(read.verified, true)
  assert.equal(read.sha256Hex, createHash('sha256').update(canonicalBytes(body)).digest('hex'))
  // The tail names one signature and the envelope holds another (a line appended after it is
  // not YAML the parse accepts, so the signature is changed in place and the tail's read left).
  const file = path.join(scratch, 'contract-tail.yaml')
  writeFileSync(file, yaml)
  const fd = openSync(file, 'r')
  try {
    const tail = readEnvelopeTail(fd)
    assert.equal(tail.signerKeyId, env.body.get('signer_key_id'))
    const other = 'ed25519:' + '0'.repeat(128)
    const s = streamContractEnvelopeVerifyingFd(fd, file, () => {}, key.publicKey, other)
    assert.ok(s !== undefined)
    assert.equal(s.verified, false, 'a signature other than the envelope\'s is never verified')
  } finally {
    closeSync(fd)
  }
  // No signature line in the last 64 KiB: nothing to check by.
  writeFileSync(file, yaml.replace(/^signature: .*$/m, 'signature: "' + (env.signature as string) + '"'))
  const fd2 = openSync(file, 'r')
  try {
    assert.equal(readEnvelopeTail(fd2).signature, undefined)
  } finally {
    closeSync(fd2)
  }
})

test('the verifying read for editing commands: several keys (one verifying suffices), the contract_hash recomputed beside the check, every byte read seen', () => {
  const stranger = keyPairFromSeed(sha256('contract-stream stranger')).publicKey
  for (const {name, text} of contracts()) {
    const file = repoPath('goldens', 'x.yaml')
    const want = contractHash(decodeEnvelope(text, file).body)
    for (const [keys, verified] of [[[stranger, GOLDEN_KEY, RATIFY_KEY], true], [[stranger], false]] as const) {
      const seen: Buffer[] = []
      const {result} = fromFile('contract-keys.yaml', text, (fd, f, onRule) => {
        const tail = readEnvelopeTail(fd)
        return streamContractEnvelopeVerifyingFd(fd, f, onRule, keys, tail.signature as string, {chunkBytes: 1000, contractHash: true, onBytes: (b) => seen.push(Buffer.from(b))})
      })
      assert.ok(result !== undefined, name)
      assert.equal(result.verified, verified, name)
      assert.equal('sha256:' + result.sha256Hex, want, `${name}: contract_hash as contractHash computes it`)
      assert.ok(Buffer.concat(seen).equals(Buffer.from(text, 'utf8')), `${name}: the bytes read`)
    }
  }
})
