import {createHash, type Hash} from 'node:crypto'
import {fstatSync, readSync} from 'node:fs'
import path from 'node:path'
import {canonicalize, goQuote, parseStrictYamlStreamed, parseStrictYamlStreamedFd, projectStruct, type JsonObject, type JsonValue, type StreamedSequence} from '../canonical/index.js'
import {Ed25519StreamVerifier} from '../signing/index.js'
import {contractProblem, contractRuleProblem, leafPaths, unknownFields} from './contract.js'
import {CONTRACT_ENVELOPE, CONTRACT_RULE} from './schema.js'

// A contract envelope read one rule at a time (bench: shadow; `learn shadow` under 256 MB). The
// decoded tree of an 18,643-rule contract is ≈ 90 MB of `Map`s, twice that while the typed
// projection copies it; a caller that keeps less per rule than the rule (the evaluator's compact
// index) need never hold it. Each rule is read, projected, checked and canonicalised on its own,
// handed to the caller, and dropped; the canonical bytes the signature covers are assembled from
// the rules' pieces.
//
// An accelerator only: it answers for a well-formed, valid contract in our emitter's YAML
// subset, and returns undefined for anything else (JSON, YAML outside the subset, a shape or
// validation error), whereupon the caller loads the file the ordinary way (`decodeEnvelope`,
// `contractProblem`), which decides and words every error. On success the result is the one the
// ordinary way gives: the same projected rules in the same order, the same body, the same bytes
// (canonicalisation is compositional: an array's canonical form is its items' joined by commas).

/** What `streamContractEnvelopeFd` read with `canonical: false`: the envelope without its signed bytes. */
export interface StreamedBody {
  /** The projected body with `rules` empty (every rule went to `onRule`). */
  readonly body: JsonObject
  readonly signature: string
  readonly ruleCount: number
}

/** What `streamContractEnvelope` read. */
export interface StreamedEnvelope extends StreamedBody {
  /** canonical(body) with its rules: the bytes the signature covers. */
  readonly canonical: Buffer
}

/** Stands in for the rules array while the body is canonicalised; checked to occur once. */
const RULES_PLACEHOLDER = 'pipelock-streamed-rules-placeholder'

/**
 * Reads a contract envelope (YAML text of `file`), handing each projected, valid rule to
 * `onRule` in order. Undefined when the ordinary load must decide (see the file comment); rules
 * already handed out are then void.
 */
export function streamContractEnvelope(text: string, file: string, onRule: (rule: JsonObject, index: number) => void): StreamedEnvelope | undefined {
  if (path.extname(file) === '.json') return undefined
  return bufferedEnvelope((stream) => parseStrictYamlStreamed(text, stream), onRule, text.length)
}

/**
 * `streamContractEnvelope` over the file open at `fd` (`file` its name), read a chunk at a time
 * (canonical `parseStrictYamlStreamedFd`): its text is never held whole. The same result as
 * `streamContractEnvelope` of the file's text, or undefined where the caller must read the text
 * and load it the ordinary way. `chunkBytes`: the read size (tests). `canonical: false`: for a
 * reader that checks no signature (`learn review`): the rules are not canonicalised and no signed
 * bytes are assembled (on a 200,000-rule contract, 197 MB and a fifth of the read's time). The
 * ordinary load (`loadContract`) canonicalises nothing either, so what it accepts is the same.
 */
export function streamContractEnvelopeFd(fd: number, file: string, onRule: (rule: JsonObject, index: number) => void, opts?: StreamOptions & {readonly canonical?: true}): StreamedEnvelope | undefined
export function streamContractEnvelopeFd(fd: number, file: string, onRule: (rule: JsonObject, index: number) => void, opts: StreamOptions & {readonly canonical: false}): StreamedBody | undefined
export function streamContractEnvelopeFd(fd: number, file: string, onRule: (rule: JsonObject, index: number) => void, opts: StreamOptions & {readonly canonical?: boolean} = {}): StreamedEnvelope | StreamedBody | undefined {
  if (path.extname(file) === '.json') return undefined
  const parse = (stream: StreamedSequence): JsonValue | undefined => parseStrictYamlStreamedFd(fd, stream, opts.chunkBytes, opts.onBytes)
  return opts.canonical === false ? streamedEnvelope(parse, onRule, undefined) : bufferedEnvelope(parse, onRule, fstatSync(fd).size)
}

/** How a file is read: `chunkBytes`, the read size (tests); `onBytes` sees every byte read, in order. */
export interface StreamOptions {
  readonly chunkBytes?: number
  readonly onBytes?: (bytes: Buffer) => void
}

/** What `streamContractEnvelopeVerifyingFd` read: the envelope and what its signed bytes showed as they passed. */
export interface VerifiedStream extends StreamedBody {
  /**
   * True: the signature given verifies by the key given over canonical(body), and is the
   * envelope's. False is not a verdict (signing `Ed25519StreamVerifier`): the caller decides over
   * the whole signed bytes (`streamContractEnvelopeFd`).
   */
  readonly verified: boolean
  /**
   * sha256 hex of canonical(body) with its `contract_hash` empty (what contracts `contractHash`
   * hashes), made when the body's `contract_hash` is empty (the report's hash is then this) or
   * `contractHash` was asked for (a caller that checks the recorded hash).
   */
  readonly sha256Hex?: string
}

/**
 * `streamContractEnvelopeFd` that keeps no signed bytes: each rule's canonical text goes, as it is
 * made, into an Ed25519 check by `publicKey` of `signature` (the envelope's, read ahead from the
 * file's end: `readEnvelopeTail`), and the body's opening before it: canonical(body) up to its
 * rules, as read when the first rule arrives, confirmed against the whole body at the end. The
 * 197 MB a 200,000-rule contract's signed bytes take are never held (bench: shadow). Several
 * keys: verified when one of them verifies (each is a hash of the bytes beside the others).
 * Undefined where `streamContractEnvelopeFd` is undefined.
 */
export function streamContractEnvelopeVerifyingFd(
  fd: number,
  file: string,
  onRule: (rule: JsonObject, index: number) => void,
  publicKey: Uint8Array | readonly Uint8Array[],
  signature: string,
  opts: StreamOptions & {readonly contractHash?: boolean} = {},
): VerifiedStream | undefined {
  if (path.extname(file) === '.json') return undefined
  const m = /^ed25519:([0-9a-fA-F]{128})$/.exec(signature)
  const keys = publicKey instanceof Uint8Array ? [publicKey] : publicKey
  if (m === null || keys.length === 0 || keys.some((k) => k.length !== 32)) return undefined
  const sig = Buffer.from(m[1] as string, 'hex')
  const texts = new VerifiedRules(
    keys.map((k) => new Ed25519StreamVerifier(k, sig)),
    opts.contractHash === true,
  )
  const read = streamedEnvelope((stream) => parseStrictYamlStreamedFd(fd, stream, opts.chunkBytes, opts.onBytes), onRule, texts)
  if (read === undefined) return undefined
  let verdict: {verified: boolean; sha256Hex?: string}
  try {
    verdict = read.signature === signature ? texts.finish(read.body) : {verified: false}
  } catch {
    verdict = {verified: false}
  }
  return {body: read.body, signature: read.signature, ruleCount: read.ruleCount, ...verdict}
}

/** What the last lines of a contract file say, read before the file is parsed (`readEnvelopeTail`). */
export interface EnvelopeTail {
  /** The envelope's `signature` line's value. */
  readonly signature?: string
  /** The body's `signer_key_id`, when written as a plain scalar. */
  readonly signerKeyId?: string
}

/** How far from its end a contract file is read for its tail: the body's members after its rules and the signature fit many times over. */
const TAIL_BYTES = 64 * 1024

/**
 * The signature and signer of the contract file at `fd`, read from its last 64 KiB where our
 * emitter writes them (the body's keys are sorted, so `signer_key_id` follows the rules, and the
 * envelope's `signature` follows the body): what an Ed25519 check must know before the signed
 * bytes pass (`streamContractEnvelopeVerifyingFd`). A guess from lines, not a parse: the caller
 * compares it with what the parse read, and goes the ordinary way when they differ or a value
 * is missing.
 */
export function readEnvelopeTail(fd: number): EnvelopeTail {
  const size = fstatSync(fd).size
  const length = Math.min(size, TAIL_BYTES)
  const buf = Buffer.allocUnsafe(length)
  let got = 0
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, size - length + got)
    if (n === 0) break
    got += n
  }
  let signature: string | undefined
  let signerKeyId: string | undefined
  for (const line of buf.toString('utf8', 0, got).split('\n')) {
    const sig = /^signature: (ed25519:[0-9a-fA-F]{128})$/.exec(line)
    if (sig !== null) signature = sig[1]
    const signer = /^ {4}signer_key_id: ([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(line)
    if (signer !== null) signerKeyId = signer[1]
  }
  return {...(signature === undefined ? {} : {signature}), ...(signerKeyId === undefined ? {} : {signerKeyId})}
}

/** What becomes of each rule's canonical text as it is made (`parent`: the body's members read before the rules). */
interface RuleTexts {
  add(text: string, parent: JsonObject): void
}

/**
 * Reads the envelope, handing each valid rule to `onRule` and its canonical text to `texts`
 * (none: the rules are not canonicalised). Undefined where the ordinary load must decide.
 */
function streamedEnvelope(parse: (stream: StreamedSequence) => JsonValue | undefined, onRule: (rule: JsonObject, index: number) => void, texts: RuleTexts | undefined): StreamedBody | undefined {
  let count = 0
  const checks = new RuleByRuleChecks()
  const tree = parse({
    path: ['body', 'rules'],
    onItem: (item, i, body) => {
      // A throw ends the parse with undefined: a shape error, an invalid rule, a non-canonical value.
      const rule = projectStruct(CONTRACT_RULE, item, `${CONTRACT_ENVELOPE.label}.body.rules[${i}]`, {unknownFields})
      if (!checks.rule(rule, i, body.get('data_class_root'))) throw new Error('invalid rule')
      texts?.add(canonicalize(rule), body)
      count++
      onRule(rule, i)
    },
  })
  if (tree === undefined) return undefined
  let body: JsonObject
  let signature: string
  try {
    const env = projectStruct(CONTRACT_ENVELOPE, tree, CONTRACT_ENVELOPE.label, {unknownFields})
    body = env.get('body') as JsonObject
    signature = env.get('signature') as string
  } catch {
    return undefined
  }
  if (!checks.body(body)) return undefined
  return {body, signature, ruleCount: count}
}

/**
 * `contractProblem` of a body whose rules pass one at a time and are not kept: whether it finds
 * none. Each rule's own checks as it passes (`rule`), then the body's (`body`, its rules empty):
 * with its rules empty the body's own checks are the ordinary ones, and the rules' leaves must be
 * covered as the whole-body walk would require.
 */
export class RuleByRuleChecks {
  private readonly leaves = new Set<string>()

  /** False when rule `i` has a problem of its own. `dataClassRoot`: the body's as read before the rules. */
  rule(rule: JsonObject, i: number, dataClassRoot: JsonValue | undefined): boolean {
    if (contractRuleProblem(rule, i) !== undefined) return false
    // The leaves are checked below only if the body's data_class_root is empty; read before the
    // rules (our emitter sorts the keys) as a non-empty string, it stays that (a duplicate key
    // fails the parse, and projection keeps a string as it is), so they are not needed.
    if (typeof dataClassRoot !== 'string' || dataClassRoot === '') leafPaths(rule, 'rules[]', this.leaves)
    return true
  }

  /** Whether `body` (its rules empty) with the rules given to `rule` has no problem. */
  body(body: JsonObject): boolean {
    if (contractProblem(body) !== undefined) return false
    const fdc = body.get('field_data_classes')
    return !(body.get('data_class_root') === '' && [...this.leaves].some((p) => !(fdc instanceof Map && fdc.has(p))))
  }
}

/** `streamedEnvelope` with the signed bytes assembled (`sourceSize`: the room first made for them). */
function bufferedEnvelope(parse: (stream: StreamedSequence) => JsonValue | undefined, onRule: (rule: JsonObject, index: number) => void, sourceSize: number): StreamedEnvelope | undefined {
  const rules = new CanonicalRules(sourceSize)
  const read = streamedEnvelope(parse, onRule, rules)
  if (read === undefined) return undefined
  let canonical: Buffer
  try {
    canonical = rules.count === 0 ? Buffer.from(canonicalize(read.body), 'utf8') : withRules(read.body, rules)
  } catch {
    return undefined
  }
  return {...read, canonical}
}

/** canonical(body) split around its rules' array: the text before its `[` and after its `]`. */
function aroundRules(body: JsonObject): {head: string; tail: string} {
  const text = canonicalize(new Map(body).set('rules', RULES_PLACEHOLDER))
  const mark = goQuote(RULES_PLACEHOLDER)
  const at = text.indexOf(mark)
  if (at < 0 || text.indexOf(mark, at + 1) >= 0) throw new Error('placeholder not unique')
  return {head: text.slice(0, at) + '[', tail: ']' + text.slice(at + mark.length)}
}

/**
 * The rules' canonical texts fed to Ed25519 checks (and a SHA-256 when the body's contract_hash
 * is empty or `hashed` is asked) as they are made, after the body's opening as read when the
 * first rule arrived. The SHA-256 covers the body with its contract_hash empty (contracts
 * `contractHash`): the same bytes but for the opening, which holds that member (its key sorts
 * before `rules`). `finish` confirms the openings against the whole projected body: where they
 * differ (a body outside our emitter's order), the answer is not verified, never a wrong yes.
 */
class VerifiedRules implements RuleTexts {
  private head: string | undefined
  private hashHead: string | undefined
  private count = 0
  private sha256: Hash | undefined
  /** Whether the SHA-256's opening is the body's with contract_hash emptied (else the signed bytes' own). */
  private hashFromEmpty = false

  constructor(
    private readonly verifiers: readonly Ed25519StreamVerifier[],
    private readonly hashed: boolean,
  ) {}

  add(text: string, parent: JsonObject): void {
    if (this.count++ === 0) {
      const early = new Map(parent)
      early.delete('rules')
      this.head = aroundRules(early).head
      this.hashHead = this.start(early, this.head, (b) => aroundRules(b).head)
    } else this.piece(',')
    this.piece(text)
  }

  finish(body: JsonObject): {verified: boolean; sha256Hex?: string} {
    if (this.count === 0) this.start(body, canonicalize(body), canonicalize)
    else {
      const {head, tail} = aroundRules(body)
      if (head !== this.head) return {verified: false}
      if (this.hashFromEmpty && aroundRules(emptyHash(body)).head !== this.hashHead) return {verified: false}
      this.piece(tail)
    }
    // every verifier is ended (each is a hash of its own)
    const verdicts = this.verifiers.map((v) => v.verify())
    return {verified: verdicts.includes(true), ...(this.sha256 === undefined ? {} : {sha256Hex: this.sha256.digest('hex')})}
  }

  /**
   * The first piece of the signed bytes (`first`); the SHA-256 is started beside them, from the
   * same text of the body with its contract_hash empty (`opening`), when wanted. Returns that text.
   */
  private start(body: JsonObject, first: string, opening: (b: JsonObject) => string): string | undefined {
    for (const v of this.verifiers) v.update(first)
    const h = body.get('contract_hash')
    if (!this.hashed && typeof h === 'string' && h !== '') return undefined
    this.sha256 = createHash('sha256')
    // unasked, only a body whose hash is not a non-empty string gets here: its bytes as they are
    this.hashFromEmpty = this.hashed && h !== ''
    const text = this.hashFromEmpty ? opening(emptyHash(body)) : first
    this.sha256.update(text, 'utf8')
    return text
  }

  private piece(text: string): void {
    for (const v of this.verifiers) v.update(text)
    this.sha256?.update(text, 'utf8')
  }
}

/** `body` with its contract_hash empty (what contracts `contractHash` canonicalises). */
function emptyHash(body: JsonObject): JsonObject {
  return new Map(body).set('contract_hash', '')
}

/** canonical(body) with the rules' canonical bytes as its rules. */
function withRules(body: JsonObject, rules: CanonicalRules): Buffer {
  const list = body.get('rules')
  if (!Array.isArray(list) || list.length !== 0) throw new Error('streamed rules missing')
  const {head, tail} = aroundRules(body)
  return rules.finish(head, tail)
}

/** Room kept before the rules for the body's members that sort before them (written last). */
const HEAD_ROOM = 64 * 1024

/**
 * The rules' canonical texts, comma-separated, written as UTF-8 into one buffer as they are read,
 * with room before them for the body's opening: the signed bytes are then that buffer, not a
 * second copy of it (a 200,000-rule contract's are 197 MB; its rules as strings were as much
 * again). Strings, not a Buffer per rule: thousands of small Buffers come from malloc'd pools
 * that the C allocator keeps (RSS) after they are freed. The buffer is made at the source's size
 * (its pages are only backed once written) and grows if the rules outgrow it.
 */
class CanonicalRules implements RuleTexts {
  count = 0
  private buf: Buffer
  private end = HEAD_ROOM

  constructor(sourceSize: number) {
    this.buf = Buffer.allocUnsafeSlow(HEAD_ROOM + sourceSize + 1024)
  }

  add(text: string): void {
    // A code unit is at most three bytes of UTF-8 (a surrogate pair, two units, four).
    this.room(this.end + 1 + 3 * text.length)
    if (this.count++ > 0) this.buf[this.end++] = 0x2c
    this.end += this.buf.write(text, this.end, 'utf8')
  }

  /** `head` + the rules + `tail` as one buffer (a view of this one when they fit around the rules). */
  finish(head: string, tail: string): Buffer {
    const h = Buffer.byteLength(head, 'utf8')
    const t = Buffer.byteLength(tail, 'utf8')
    if (h > HEAD_ROOM) {
      const out = Buffer.allocUnsafeSlow(h + (this.end - HEAD_ROOM) + t)
      out.write(head, 0, 'utf8')
      this.buf.copy(out, h, HEAD_ROOM, this.end)
      out.write(tail, out.length - t, 'utf8')
      return out
    }
    this.room(this.end + t)
    const from = HEAD_ROOM - h
    this.buf.write(head, from, 'utf8')
    this.buf.write(tail, this.end, 'utf8')
    return this.buf.subarray(from, this.end + t)
  }

  private room(need: number): void {
    if (need <= this.buf.length) return
    const grown = Buffer.allocUnsafeSlow(Math.max(need, Math.floor(this.buf.length * 1.5)))
    this.buf.copy(grown, 0, 0, this.end)
    this.buf = grown
  }
}
