import {closeSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync} from 'node:fs'
import path from 'node:path'
import {compareUtf8} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {CAPTURE_META_SESSION} from './writer.js'

const FIRST_LINE_MAX = 1024 * 1024
const ENTRY_FILE = /^evidence-(.+)-(\d+)\.jsonl$/

function firstLine(file: string): string {
  const fd = openSync(file, 'r')
  try {
    const buf = Buffer.alloc(FIRST_LINE_MAX)
    const n = readSync(fd, buf, 0, FIRST_LINE_MAX, 0)
    const nl = buf.subarray(0, n).indexOf(0x0a)
    return buf.toString('utf8', 0, nl < 0 ? n : nl)
  } finally {
    closeSync(fd)
  }
}

/** A session directory discovery did not use because its first capture file cannot be read as one. */
export interface SkippedCapture {
  file: string
  line: number
  reason: string
}

/** `FILE line N: reason`, as the warning and the refusal name a damaged session. */
export function skippedText(s: SkippedCapture): string {
  return `${s.file}${s.line > 0 ? ` line ${s.line}` : ''}: ${s.reason}`
}

/**
 * §2.6 poisoned-capture defence: a session directory counts for `agent` only when the first
 * line of its lexicographically first `*.jsonl` is an entry with a type and a hash and, when it
 * is a capture, names this agent. A directory without captures is accepted (contributes nothing).
 * `damaged` is set when the directory is refused because that line cannot be read as an entry
 * (not when it names another agent: that one is a poisoned sibling, skipped silently).
 */
export function sessionDirVerdict(dir: string, agent: string): {accepted: boolean; damaged?: SkippedCapture} {
  let files: string[]
  try {
    files = readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort(compareUtf8)
  } catch (e) {
    return {accepted: false, damaged: {file: dir, line: 0, reason: `cannot read the session directory: ${(e as Error).message}`}}
  }
  const first = files[0]
  if (first === undefined) return {accepted: true}
  const file = path.join(dir, first)
  const damaged = (reason: string) => ({accepted: false, damaged: {file, line: 1, reason}})
  let obj: unknown
  try {
    obj = JSON.parse(firstLine(file))
  } catch (e) {
    return damaged(e instanceof SyntaxError ? 'first line is not JSON (truncated or damaged)' : `cannot read: ${(e as Error).message}`)
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return damaged('first line is not a recorder entry')
  const rec = obj as Record<string, unknown>
  if (typeof rec.type !== 'string' || rec.type === '' || typeof rec.hash !== 'string' || rec.hash === '') return damaged('first line is not a recorder entry (no type or hash)')
  if (rec.type !== 'capture') return {accepted: true}
  const detail = rec.detail as Record<string, unknown> | null | undefined
  return {accepted: detail !== null && typeof detail === 'object' && detail.agent === agent}
}

/**
 * Input order: directories in byte order; inside one session directory, recorder files by their
 * numeric start seq (so `-9000` comes before `-10000` and rotated files stay in chain order).
 */
export function compareCaptureFiles(a: string, b: string): number {
  const da = path.dirname(a)
  const db = path.dirname(b)
  if (da !== db) return compareUtf8(da, db)
  const ma = ENTRY_FILE.exec(path.basename(a))
  const mb = ENTRY_FILE.exec(path.basename(b))
  if (ma && mb && ma[1] === mb[1]) {
    const na = BigInt(ma[2] as string)
    const nb = BigInt(mb[2] as string)
    if (na !== nb) return na < nb ? -1 : 1
  }
  return compareUtf8(a, b)
}

export interface DiscoverOptions {
  /** Absolute capture root (`learn.capture_dir`). */
  root: string
  agent: string
  /** Files modified at or after this instant (epoch ms) are kept (absent: every file). */
  sinceEpochMs?: number
}

/** §2.6 / §3: the capture files of one agent under the capture root. */
export function discoverCaptureFiles(opts: DiscoverOptions): string[] {
  return discoverCaptureInputs(opts).files
}

/**
 * discoverCaptureFiles, the session directories of this agent skipped because they are damaged,
 * and how many of its session directories were read (with files in the window or not).
 */
export function discoverCaptureInputs(opts: DiscoverOptions): {files: string[]; skipped: SkippedCapture[]; sessions: number} {
  if (!path.isAbsolute(opts.root)) {
    throw new PipelockError('PATH_NOT_ABSOLUTE', `learn.capture_dir must be absolute: ${opts.root}`)
  }
  let realRoot: string
  let names: string[]
  try {
    realRoot = realpathSync(opts.root)
    names = readdirSync(realRoot)
  } catch (e) {
    throw new PipelockError('CAPTURE_NO_INPUT', `cannot read capture directory: ${(e as Error).message}`, {location: {file: opts.root}})
  }
  const out: string[] = []
  const skipped: SkippedCapture[] = []
  let sessions = 0
  for (const name of names.sort(compareUtf8)) {
    if (name === CAPTURE_META_SESSION) continue
    if (name !== opts.agent && !name.startsWith(opts.agent + '|')) continue
    const dir = path.join(realRoot, name)
    if (!lstatSync(dir).isDirectory()) continue
    const verdict = sessionDirVerdict(dir, opts.agent)
    if (verdict.damaged !== undefined) skipped.push(verdict.damaged)
    if (!verdict.accepted) continue // a poisoned sibling is skipped silently, a damaged one reported
    sessions++
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.jsonl')) continue
      const file = path.join(dir, f)
      const st = lstatSync(file)
      if (!st.isFile()) continue // symlinks and others never count
      if (opts.sinceEpochMs !== undefined && st.mtimeMs < opts.sinceEpochMs) continue
      const real = realpathSync(file)
      if (!real.startsWith(realRoot + path.sep)) continue
      out.push(file)
    }
  }
  return {files: out.sort(compareCaptureFiles), skipped, sessions}
}

/**
 * The refusal when every capture session of `agent` under `root` was left out as damaged (what
 * `discoverCaptureInputs` skipped): the first one's place, and each one named. A command that
 * reads nothing it cannot verify says so rather than that there is nothing.
 */
export function unreadableCaptureError(command: string, agent: string, root: string, skipped: readonly SkippedCapture[]): PipelockError {
  const first = skipped[0] as SkippedCapture
  return new PipelockError('CAPTURE_LINE_INVALID', `the capture files for agent ${JSON.stringify(agent)} under ${root} could not be read: ${skipped.map(skippedText).join('; ')}`, {
    location: {file: first.file, ...(first.line > 0 ? {line: first.line} : {})},
    hint: `repair or move the damaged files; ${command} reads nothing it cannot verify`,
  })
}

/**
 * The hint for an agent without a capture session under `root`: whose sessions are there (up to
 * eight names), or that nothing has been captured there yet. `otherInput` names the command's
 * way to read captures from elsewhere (`--sessions`, `--input …`).
 */
export function capturedAgentsHint(root: string, otherInput: string): string {
  let names: string[]
  try {
    names = readdirSync(root)
  } catch {
    names = []
  }
  const agents = [...new Set(names.map((n) => n.split('|')[0] as string).filter((n) => n !== '' && n !== CAPTURE_META_SESSION))].sort(compareUtf8)
  if (agents.length === 0) return `nothing has been captured there yet: run pipelock learn observe (or run with capture) first, or give ${otherInput}`
  return `sessions there belong to: ${agents.slice(0, 8).join(', ')}${agents.length > 8 ? `, … (${agents.length} agents)` : ''}`
}

function globSegmentRegex(seg: string): RegExp {
  let re = '^'
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '\\' && i + 1 < seg.length) re += '\\' + seg[++i]
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2)
      if (end < 0) throw new PipelockError('USAGE', `syntax error in pattern: ${seg}`)
      let cls = seg.slice(i + 1, end)
      if (cls.startsWith('^')) cls = '^' + cls.slice(1).replace(/\\(?!.)/g, '\\\\')
      re += '[' + cls + ']'
      i = end
    } else re += c.replace(/[.+^${}()|\]\\]/g, '\\$&')
  }
  return new RegExp(re + '$', 'u')
}

/** Go `filepath.Glob` for absolute patterns: matches sorted, non-existent literal paths skipped. */
export function globFiles(pattern: string): string[] {
  const abs = path.resolve(pattern)
  const parts = abs.split(path.sep).filter((p) => p !== '')
  let current: string[] = [path.sep]
  for (const part of parts) {
    const next: string[] = []
    const hasMeta = /[*?[\\]/.test(part)
    for (const base of current) {
      if (!hasMeta) {
        const p = path.join(base, part)
        try {
          statSync(p)
          next.push(p)
        } catch {
          /* a missing literal matches nothing */
        }
        continue
      }
      let entries: string[]
      try {
        entries = readdirSync(base)
      } catch {
        continue
      }
      const re = globSegmentRegex(part)
      for (const e of entries) if (re.test(e)) next.push(path.join(base, e))
    }
    current = next
  }
  return current.sort(compareUtf8)
}
