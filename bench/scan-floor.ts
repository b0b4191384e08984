// The floor of a body scan (issue 36): the least work the specified checks require on a body, timed
// in the same run as the scan itself, so a throughput target can be set beside what this machine
// allows. It counts only what no implementation of the checks can skip, and times nothing else:
//
// - the RE2 walks of the pattern sets over the texts the specification names (runtime.md §6.1 text
//   DLP: the text, its normalised form, and that form without dots and without whitespace, one
//   walk of the DLP set each — step 2's core walk shares step 4's when normalising changes nothing; §7 injection: pass 1
//   with pass 4's optional-whitespace variants, pass 3's leetspeak text with the same set, pass 5's
//   vowel-folded text with the folded set — one walk each);
// - on the request path (§6.2), the texts walked: a JSON body's joined texts in order and sorted
//   (DLP on the sorted join; injection on both joins), any other body as one text; the JSON
//   body's native `JSON.parse` as the least its extraction costs;
// - on the response path, the page as served and, for markup, its visible text (pipelock's own
//   check of text split by tags: docs/scanner.md) — the extraction of that text is not counted.
//
// - on the request path of a binary body (one that is not UTF-8), the pass that finds its text
//   runs and printable runs (pipelock's own finders in WebAssembly, the cheapest pass this tree
//   has: a JavaScript loop over the bytes costs about as much as 1 GB/s allows), then the DLP
//   walks of both texts' forms and the injection walks of the text runs; on its response path the
//   same finders' pass for the text runs alone (`binaryText`) and the injection walks of them.
//
// The per-text scans of a JSON body's values, the decodings (§6.1 steps 6–7, §7 pass 6), the
// seed-phrase and canary checks, and the building of each pass text are left out: a floor, not
// an estimate. The pass texts are built once, outside the timing.
import {cpuPerCall} from './cpu-per-call.js'
import {binaryText, extractHtmlText, extractJsonTexts, foldVowels, leetspeak, PRINTABLE_RUN_MIN, textAndPrintableRuns, type DlpEngine, type ResponseScanner} from '../src/plugins/scanner/index.js'

export interface Walk {
  readonly set: {match(input: Buffer): number[]}
  readonly input: Buffer
}

export interface ScanFloor {
  /** Microseconds of CPU: the walks and (JSON) the parse. */
  readonly micros: number
  /** What the floor is made of, for the table. */
  readonly parts: string
}

function dlpWalks(dlp: DlpEngine, text: string): Walk[] {
  const set = dlp.allSet
  if (set === null) throw new Error('the DLP set did not compile')
  // Step 4 reads the normalised text, and step 5 re-shapes that: when normalising changes the
  // text (it drops control characters: a text's line breaks), step 2's walk of the text as given
  // is one more.
  const cleaned = dlp.normalizer.forDlp(text)
  const forms = new Set([text, cleaned, cleaned.split('.').join(''), cleaned.replace(/\s+/gu, '')])
  return [...forms].map((t) => ({set, input: Buffer.from(t)}))
}

function injectionWalks(response: ResponseScanner, text: string): Walk[] {
  const joint = response.joint
  if (joint === undefined || joint === null || joint.pair.set === null || joint.fold.set === null) throw new Error('the joint injection sets did not compile')
  const normalised = response.normalizer.forMatching(text)
  const leet = leetspeak(normalised)
  const walks: Walk[] = [{set: joint.pair.set, input: Buffer.from(normalised)}]
  if (leet !== normalised) walks.push({set: joint.pair.set, input: Buffer.from(leet)})
  walks.push({set: joint.fold.set, input: Buffer.from(foldVowels(normalised))})
  return walks
}

/** The walks §7 requires on a response page (and, for markup, its visible text), their inputs built here. */
export function responseWalks(response: ResponseScanner, markup: boolean, text: string): Walk[] {
  const ws = injectionWalks(response, text)
  if (markup) ws.push(...injectionWalks(response, extractHtmlText(text).content))
  return ws
}

/** Runs `walks` (each set over its input). */
export function walk(walks: readonly Walk[]): void {
  for (const w of walks) w.set.match(w.input)
}

/** CPU per call of one body's walks, the bodies taken in turn (`rotating`). */
function timeWalks(walks: ReadonlyArray<readonly Walk[]>, seconds: number): Promise<number> {
  return cpuPerCall(rotating(walks, walk), seconds)
}

/**
 * `f` over `items`, one per call, in turn: a benchmark times distinct bodies, as traffic brings
 * them, and never the same one again and again (the CPU's caches and predictors, and any memo of
 * the last text, would then answer for it).
 */
export function rotating<T>(items: readonly T[], f: (item: T) => unknown): () => unknown {
  let k = 0
  return () => {
    const item = items[k]!
    k = k + 1 === items.length ? 0 : k + 1
    return f(item)
  }
}

/** The request-body floor (§6.2) of `bodies` read as `type`: per body, the bodies in turn. */
export async function requestFloor(scanner: {dlp: DlpEngine; response: ResponseScanner}, type: string, bodies: readonly Buffer[], seconds: number): Promise<ScanFloor> {
  if (type === 'application/json') {
    const walks = bodies.map((body) => {
      const texts = extractJsonTexts(body.toString('utf8'))
      const ordered = texts.join('\n')
      const sorted = [...texts].sort().join('\n')
      return [...dlpWalks(scanner.dlp, sorted), ...injectionWalks(scanner.response, ordered), ...injectionWalks(scanner.response, sorted)]
    })
    const parse = await cpuPerCall(rotating(bodies, (body) => JSON.parse(body.toString('utf8'))), seconds / 2)
    const walked = await timeWalks(walks, seconds / 2)
    return {micros: parse + walked, parts: `JSON.parse ${parse.toFixed(0)} µs + ${walks[0]!.length} walks ${walked.toFixed(0)} µs`}
  }
  const walks = bodies.map((body) => {
    const text = body.toString('utf8')
    return [...dlpWalks(scanner.dlp, text), ...injectionWalks(scanner.response, text)]
  })
  const walked = await timeWalks(walks, seconds)
  return {micros: walked, parts: `${walks[0]!.length} walks ${walked.toFixed(0)} µs`}
}

/**
 * The request-body floor of binary `bodies` (not UTF-8; per body, in turn): the run finders' pass
 * with the two texts it yields, then the walks over them.
 */
export function binaryRequestFloor(scanner: {dlp: DlpEngine; response: ResponseScanner}, bodies: readonly Buffer[], seconds: number): Promise<ScanFloor> {
  return runsThenWalks(bodies, (body) => textAndPrintableRuns(body, PRINTABLE_RUN_MIN), ({text, printable}) => [
    ...dlpWalks(scanner.dlp, text),
    ...(printable === null ? [] : dlpWalks(scanner.dlp, printable)),
    ...injectionWalks(scanner.response, text),
  ], seconds)
}

/**
 * A binary body's floor: `find` (the run finders' pass, timed over half the seconds), then the
 * walks `walksOf` its result needs (timed over the other half).
 */
async function runsThenWalks<T>(bodies: readonly Buffer[], find: (body: Buffer) => T, walksOf: (found: T) => Walk[], seconds: number): Promise<ScanFloor> {
  const walks = bodies.map((body) => walksOf(find(body)))
  const runs = await cpuPerCall(rotating(bodies, find), seconds / 2)
  const walked = await timeWalks(walks, seconds / 2)
  return {micros: runs + walked, parts: `runs ${runs.toFixed(0)} µs + ${walks[0]!.length} walks ${walked.toFixed(0)} µs`}
}

/** The response-check floor (§7) of UTF-8 `bodies` (per body, in turn); markup adds the visible text. */
export async function responseFloor(response: ResponseScanner, markup: boolean, bodies: readonly Buffer[], seconds: number): Promise<ScanFloor> {
  const walks = bodies.map((body) => responseWalks(response, markup, body.toString('utf8')))
  const walked = await timeWalks(walks, seconds)
  return {micros: walked, parts: `${walks[0]!.length} walks ${walked.toFixed(0)} µs`}
}

/** The response floor of a binary body (§7 over its text runs): the finders' pass that yields them, then the injection walks. */
export function binaryResponseFloor(response: ResponseScanner, bodies: readonly Buffer[], seconds: number): Promise<ScanFloor> {
  return runsThenWalks(bodies, binaryText, (text) => injectionWalks(response, text), seconds)
}
