// `npm run bench -- body-scan [--preset NAME] [--seed-phrase on|off] [--size 64k] [--bodies N] [--seconds S] [--only KINDS]`: body and
// response scanning throughput in process (issue 36), MB per CPU second, for text bodies (HTML, JSON, a
// chat request, plain, Cyrillic plain, a few BIP-39 list words repeated, JSON records of identifiers,
// a chat request with a base64 image) and binary ones (random, gzip, PNG-like), on the request-body path
// (`scanRequestBody`: DLP and injection) and the response path (`decideResponseBody`: the
// injection scan the proxy applies to every buffered response). The `old` rows are the response path as it was before
// bodies were read from their bytes: the whole body decoded as UTF-8 and scanned as one text.
// Beside them, in the same run, a plain JavaScript byte loop over the same body: the machine's
// floor for any one pass written in JavaScript, and for text bodies the floor of the specified
// checks themselves (`scan-floor.ts`: the RE2 walks they require, and a JSON body's parse; for a
// binary body the run finders' pass and the walks over the runs, on both paths).
// Reports numbers only; never asserts.
import {isUtf8} from 'node:buffer'
import crypto from 'node:crypto'
import fs from 'node:fs'
import {fileURLToPath, pathToFileURL} from 'node:url'
import zlib from 'node:zlib'
import {wordlist as englishWords} from '@scure/bip39/wordlists/english.js'
import {isPresetName, loadPresetConfig} from '../src/plugins/config/index.js'
import {scannerSettingsFromConfig} from '../src/plugins/proxy/index.js'
import {createScanner} from '../src/plugins/scanner/index.js'
import {cpuPerCall} from './cpu-per-call.js'
import {binaryRequestFloor, binaryResponseFloor, requestFloor, responseFloor, rotating} from './scan-floor.js'

/** Parses `64k`, `1m`, `4096`. */
export function parseSize(s: string): number {
  const m = /^(\d+)([km]?)i?b?$/i.exec(s.trim())
  if (m === null) throw new Error(`not a size: ${s} (e.g. 64k, 1m, 4096)`)
  const n = Number(m[1])
  const unit = (m[2] ?? '').toLowerCase()
  return unit === 'k' ? n * 1024 : unit === 'm' ? n * 1024 * 1024 : n
}

/**
 * A page of `size` bytes of ordinary HTML (no injection). `variant` numbers its sections from
 * another start: pages of the same shape with other bytes.
 */
export function htmlBody(size: number, variant = 0): Buffer {
  const parts = ['<!doctype html><html><head><title>Service documentation</title></head><body>\n']
  let n = parts[0]!.length
  for (let i = variant * 997; n < size; i++) {
    const p = `<div class="section s${i % 7}"><h2>Section ${i}</h2><p>Paragraph ${i} explains how to configure the service: set the <code>timeout</code> option, see <a href="/docs/page-${i}.html">page ${i}</a> for details &amp; notes.</p></div>\n`
    parts.push(p)
    n += p.length
  }
  return Buffer.from(parts.join('')).subarray(0, size)
}

function jsonBody(size: number, variant: number): Buffer {
  const items: string[] = []
  let n = 2
  for (let i = variant * 10_007; n < size; i++) {
    const s = JSON.stringify({id: i, name: `item-${i}`, description: `Description of item ${i}, with a few words in it`, tags: ['alpha', 'beta'], price: i * 1.5, active: i % 2 === 0})
    items.push(s)
    n += s.length + 1
  }
  // Cut at an item boundary: the body stays valid JSON.
  let out = '[' + items.join(',') + ']'
  while (out.length > size && items.length > 1) {
    items.pop()
    out = '[' + items.join(',') + ']'
  }
  return Buffer.from(out)
}

/**
 * A chat-completion request of about `size` bytes: a model, settings and a conversation of
 * prose messages of 200–2,000 characters (what an agent sends an LLM API through TLS
 * interception). Unlike `jsonBody` it has no numbers to glue into a card-number look-alike, so its
 * scan runs to the end: the split-secret pass over its values included.
 */
function chatBody(size: number, variant: number): Buffer {
  const words = 'the agent reads the file and then it writes a summary of what changed in the build with notes about tests that failed and why they failed on the shared machine while the proxy scanned every request'.split(' ')
  const messages: Array<{role: string; content: string}> = []
  let n = 0
  for (let i = variant * 13; n < size; i++) {
    const length = 200 + ((i * 7919) % 1800)
    let content = ''
    for (let k = i; content.length < length; k += 3) content += words[k % words.length]! + ' '
    const m = {role: i % 2 === 1 ? 'assistant' : 'user', content: content.trim()}
    messages.push(m)
    n += JSON.stringify(m).length
  }
  return Buffer.from(JSON.stringify({model: 'claude-sonnet-4', max_tokens: 4096, temperature: 0.2, stream: true, messages}))
}

/**
 * Records of identifiers, as an API lists them: a UUID, a SHA-1 in hex and a time each. Every
 * value is in a decoder's alphabet (hex, base64url), so the split-secret pass cannot prove its
 * pairs clean without decoding them.
 */
function idsBody(size: number, variant: number): Buffer {
  const r = prngBytes(variant)
  const items: string[] = []
  let n = 2
  for (let i = 0; n < size; i++) {
    const b = r(36)
    const uuid = [b.subarray(0, 4), b.subarray(4, 6), b.subarray(6, 8), b.subarray(8, 10), b.subarray(10, 16)].map((x) => x.toString('hex')).join('-')
    const s = JSON.stringify({id: uuid, sha: b.subarray(16, 36).toString('hex'), created: 1_764_000_000 + i * 37})
    items.push(s)
    n += s.length + 1
  }
  while (items.length > 1 && n > size) n -= items.pop()!.length + 1
  return Buffer.from('[' + items.join(',') + ']')
}

/** A chat request with one image (base64, as the providers' APIs take it) and a question. */
function imageChatBody(size: number, variant: number): Buffer {
  const image = pngBody(Math.floor(((size - 300) * 3) / 4), variant).toString('base64')
  return Buffer.from(JSON.stringify({
    model: 'claude-sonnet-4', max_tokens: 1024,
    messages: [{role: 'user', content: [{type: 'image', source: {type: 'base64', media_type: 'image/png', data: image}}, {type: 'text', text: 'What does this diagram show?'}]}],
  }))
}

/** Deterministic bytes for body `variant` (SHA-256 in counter mode). */
function prngBytes(variant: number): (n: number) => Buffer {
  let counter = 0
  return (n) => {
    const out: Buffer[] = []
    for (let got = 0; got < n; got += 32) out.push(crypto.createHash('sha256').update(`${variant}:${counter++}`).digest())
    return Buffer.concat(out).subarray(0, n)
  }
}

function plainBody(size: number, variant: number): Buffer {
  return linesBody(size, variant, (i) => `${i}: the build finished in ${i * 3} ms; the quick brown fox jumps over the lazy dog.\n`)
}

/**
 * Plain text in Cyrillic (the lines of `plainBody` in Russian): a page in a script other than
 * Latin, whose characters are confusables and above U+02FF.
 */
function cyrillicBody(size: number, variant: number): Buffer {
  return linesBody(size, variant, (i) => `${i}: сборка закончилась за ${i * 3} мс; съешь же ещё этих мягких французских булок, да выпей чаю.\n`)
}

/**
 * A few BIP-39 list words repeated (`hello world hello world …`, two to six words for `variant`):
 * a run of list words as long as the body, every window of which the seed-phrase step reads.
 */
function listWordsBody(size: number, variant: number): Buffer {
  const words = Array.from({length: 2 + (variant % 5)}, (_, j) => englishWords[(variant * 97 + j * 613) % englishWords.length]!).join(' ') + ' '
  return Buffer.from(words.repeat(Math.ceil(size / words.length)).slice(0, size))
}

/** Numbered lines `line(i)` from line `variant × 100,003` on, `size` bytes cut on a character (a character cut in two is dropped). */
function linesBody(size: number, variant: number, line: (i: number) => string): Buffer {
  const lines: string[] = []
  let n = 0
  for (let i = variant * 100_003; n < size; i++) {
    const l = line(i)
    lines.push(l)
    n += Buffer.byteLength(l)
  }
  return Buffer.from(Buffer.from(lines.join('')).subarray(0, size).toString('utf8').replace(/\ufffd$/, ''))
}

/**
 * Real prose: `size`-byte slices of this repository's user documents (`docs/*.md`, as a page of
 * documentation reads), slice `variant` of their concatenation. The synthetic bodies repeat a
 * few shapes; prose with code, tables and examples is what makes the RE2 sets build DFA states
 * as they walk. Empty when the documents are not beside the bench (an installed package).
 */
function docsBody(size: number, variant: number): Buffer {
  const all = docsText()
  if (all.length === 0) return all
  const slices = Math.max(1, Math.floor(all.length / size))
  const at = (variant % slices) * size
  // Re-encoded: a character cut at either end becomes U+FFFD, so the slice stays UTF-8 text.
  return Buffer.from(all.subarray(at, at + size).toString('utf8'))
}

/** The documents joined, read once for every slice. */
let docs: Buffer | undefined
function docsText(): Buffer {
  if (docs === undefined) {
    const dir = fileURLToPath(new URL('../../docs/', import.meta.url))
    docs = fs.existsSync(dir) ? Buffer.concat(fs.readdirSync(dir).filter((f) => f.endsWith('.md')).sort().map((f) => fs.readFileSync(dir + f))) : Buffer.alloc(0)
  }
  return docs
}

function gzipBody(size: number, variant: number): Buffer {
  // Compressed text: what a package or an archive download looks like.
  const z = zlib.gzipSync(Buffer.concat([plainBody(size * 3, variant), htmlBody(size * 3, variant), crypto.randomBytes(size)]))
  return z.subarray(0, size)
}

function pngBody(size: number, variant?: number): Buffer {
  const b = variant === undefined ? crypto.randomBytes(size) : prngBytes(variant)(size)
  Buffer.from('89504e470d0a1a0a0000000d4948445200000400000003000806000000', 'hex').copy(b, 0)
  Buffer.from('IDAT').copy(b, 37)
  return b
}

/** Calls per CPU second of `f` for about `seconds` of wall time (`cpuPerCall`). */
async function rate(f: () => unknown, seconds: number): Promise<number> {
  return 1e6 / (await cpuPerCall(f, seconds))
}

function byteLoop(b: Buffer): number {
  let s = 0
  for (let i = 0; i < b.length; i++) s = (s + b[i]!) | 0
  return s
}

export async function runBodyScanBench(args: readonly string[] = []): Promise<Record<string, unknown>[]> {
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const preset = arg('--preset') ?? 'balanced'
  if (!isPresetName(preset)) throw new Error(`unknown preset ${JSON.stringify(preset)}`)
  const size = parseSize(arg('--size') ?? '64k')
  const seconds = Number(arg('--seconds') ?? 1)
  const count = Number(arg('--bodies') ?? 8)
  if (!Number.isInteger(count) || count < 1) throw new Error(`--bodies takes a whole number ≥ 1, not ${arg('--bodies')}`)
  const cfg = loadPresetConfig(preset).config
  // `--seed-phrase off`: the same scans without §6.1 step 3, to see what that step costs a body.
  const seed = arg('--seed-phrase') ?? 'on'
  if (seed !== 'on' && seed !== 'off') throw new Error(`--seed-phrase takes on or off, not ${JSON.stringify(seed)}`)
  if (seed === 'off') cfg.seed_phrase_detection.enabled = false
  const sc = createScanner(scannerSettingsFromConfig(cfg, {env: {}}))
  // `count` distinct bodies of each kind, scanned in turn (scan-floor.ts `rotating`).
  const draw = (make: (v: number) => Buffer): Buffer[] => Array.from({length: count}, (_, v) => make(v))
  const bodies: Array<[string, string, Buffer[]]> = [
    ['html', 'text/html', draw((v) => htmlBody(size, v))],
    ['json', 'application/json', draw((v) => jsonBody(size, v))],
    ['chat', 'application/json', draw((v) => chatBody(size, v))],
    ['plain', 'text/plain', draw((v) => plainBody(size, v))],
    ['cyrillic', 'text/plain', draw((v) => cyrillicBody(size, v))],
    ['list words', 'text/plain', draw((v) => listWordsBody(size, v))],
    ['docs (prose)', 'text/markdown', draw((v) => docsBody(size, v))],
    ['random', 'application/octet-stream', draw(() => crypto.randomBytes(size))],
    ['gzip', 'application/gzip', draw((v) => gzipBody(size, v))],
    ['png-like', 'image/png', draw(() => pngBody(size))],
    ['JSON ids', 'application/json', draw((v) => idsBody(size, v))],
    ['chat image', 'application/json', draw((v) => imageChatBody(size, v))],
  ]
  // `--only a,b`: the kinds named (as in the table's first column), in this order.
  const only = arg('--only')?.split(',').map((x) => x.trim())
  if (only !== undefined) {
    const unknown = only.filter((o) => !bodies.some(([name]) => name === o))
    if (unknown.length > 0) throw new Error(`--only: no body kind ${unknown.map((u) => JSON.stringify(u)).join(', ')} (kinds: ${bodies.map(([name]) => name).join(', ')})`)
    bodies.splice(0, bodies.length, ...bodies.filter(([name]) => only.includes(name)))
  }
  const rows: Record<string, unknown>[] = []
  for (const [name, type, set] of bodies) {
    if (set.some((b) => b.length === 0)) continue
    const host = 'example.com'
    const bytes = set.reduce((n, b) => n + b.length, 0) / set.length
    const mb = (perSec: number): number => (perSec * bytes) / 1e6
    const request = mb(await rate(rotating(set, (body) => sc.scanRequestBody({contentType: type, body, host})), seconds))
    const response = mb(await rate(rotating(set, (body) => sc.decideResponseBody(body, {host})), seconds))
    const old = mb(await rate(rotating(set, (body) => sc.decideResponse(body.toString('utf8'), {host})), seconds))
    const floor = mb(await rate(rotating(set, byteLoop), Math.min(seconds, 0.5)))
    // Text bodies: the least the specified checks cost on them (`scan-floor.ts`), as MB/s.
    const text = set.every((b) => isUtf8(b))
    const reqFloor = text ? await requestFloor(sc, type, set, Math.min(seconds, 1)) : type === 'application/gzip' ? null : await binaryRequestFloor(sc, set, Math.min(seconds, 1))
    const resFloor = text ? await responseFloor(sc.response, type === 'text/html', set, Math.min(seconds, 1)) : await binaryResponseFloor(sc.response, set, Math.min(seconds, 1))
    const asRate = (micros: number): number => bytes / micros
    const verdicts = new Set(set.map((body) => `${sc.scanRequestBody({contentType: type, body, host}).action}/${sc.decideResponseBody(body, {host}).action}`))
    rows.push({
      body: name,
      bodies: set.length,
      bytes: Math.round(bytes),
      utf8: text ? 'yes' : 'no',
      'request MB/s': request,
      'response MB/s': response,
      'response old MB/s': old,
      'response vs old': `${(response / old).toFixed(1)}×`,
      'JS byte loop MB/s': floor,
      'request floor MB/s': reqFloor === null ? '—' : asRate(reqFloor.micros),
      'request floor': reqFloor?.parts ?? '—',
      'response floor MB/s': resFloor === null ? '—' : asRate(resFloor.micros),
      'response floor': resFloor?.parts ?? '—',
      verdicts: [...verdicts].join(' '),
    })
  }
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await runBodyScanBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
}
