import {readFileSync, writeFileSync} from 'node:fs'

// Our own generators of damaged evidence: each takes a JSONL file and writes a variant. They
// work on lines as bytes, the way an attacker or a crash would, never through our parsers.

function lines(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n')
}

function write(file: string, ls: string[], trailingNewline = true): void {
  writeFileSync(file, ls.join('\n') + (trailingNewline ? '\n' : ''))
}

/** Replaces `from` by `to` inside line `n` (1-based); throws when `from` is not there. */
export function tamperLine(src: string, dst: string, n: number, from: string, to: string): void {
  const ls = lines(src)
  const l = ls[n - 1] as string
  if (!l.includes(from)) throw new Error(`line ${n} of ${src} has no ${from}`)
  ls[n - 1] = l.replace(from, to)
  write(dst, ls)
}

/** Swaps lines `a` and `b` (1-based). */
export function swapLines(src: string, dst: string, a: number, b: number): void {
  const ls = lines(src)
  const x = ls[a - 1] as string
  ls[a - 1] = ls[b - 1] as string
  ls[b - 1] = x
  write(dst, ls)
}

/** Removes line `n` (1-based). */
export function dropLine(src: string, dst: string, n: number): void {
  const ls = lines(src)
  ls.splice(n - 1, 1)
  write(dst, ls)
}

/** Cuts the last line to `keep` bytes, without a newline: a write interrupted by a crash. */
export function tearLastLine(src: string, dst: string, keep: number): void {
  const ls = lines(src)
  const last = Buffer.from(ls.pop() as string, 'utf8')
  writeFileSync(dst, ls.map((l) => l + '\n').join('') + last.subarray(0, keep).toString('latin1'))
}

/** Cuts line `n` (not the last) to `keep` bytes, keeping its newline. */
export function tearLine(src: string, dst: string, n: number, keep: number): void {
  const ls = lines(src)
  ls[n - 1] = (ls[n - 1] as string).slice(0, keep)
  write(dst, ls)
}
