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

/**
 * §2.6 poisoned-capture defence: a session directory counts for `agent` only when the first
 * line of its lexicographically first `*.jsonl` is an entry with a type and a hash and, when it
 * is a capture, names this agent. A directory without captures is accepted (contributes nothing).
 */
export function validateCaptureSessionDir(dir: string, agent: string): boolean {
  let files: string[]
  try {
    files = readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort(compareUtf8)
  } catch {
    return false
  }
  const first = files[0]
  if (first === undefined) return true
  let obj: unknown
  try {
    obj = JSON.parse(firstLine(path.join(dir, first)))
  } catch {
    return false
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return false
  const rec = obj as Record<string, unknown>
  if (typeof rec.type !== 'string' || rec.type === '' || typeof rec.hash !== 'string' || rec.hash === '') return false
  if (rec.type !== 'capture') return true
  const detail = rec.detail as Record<string, unknown> | null | undefined
  return detail !== null && typeof detail === 'object' && detail.agent === agent
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
  /** Files modified at or after this instant (epoch ms) are kept. */
  sinceEpochMs: number
}

/** §2.6 / §3: the capture files of one agent under the capture root. */
export function discoverCaptureFiles(opts: DiscoverOptions): string[] {
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
  for (const name of names.sort(compareUtf8)) {
    if (name === CAPTURE_META_SESSION) continue
    if (name !== opts.agent && !name.startsWith(opts.agent + '|')) continue
    const dir = path.join(realRoot, name)
    if (!lstatSync(dir).isDirectory()) continue
    if (!validateCaptureSessionDir(dir, opts.agent)) continue // poisoned sibling: skipped silently
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.jsonl')) continue
      const file = path.join(dir, f)
      const st = lstatSync(file)
      if (!st.isFile()) continue // symlinks and others never count
      if (st.mtimeMs < opts.sinceEpochMs) continue
      const real = realpathSync(file)
      if (!real.startsWith(realRoot + path.sep)) continue
      out.push(file)
    }
  }
  return out.sort(compareCaptureFiles)
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
