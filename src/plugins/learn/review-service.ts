import {closeSync, constants, fstatSync, lstatSync, openSync, readSync} from 'node:fs'
import path from 'node:path'
import {Marked} from 'marked'
import {loadContract, streamContractEnvelopeFd} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {writeOutputs} from './compile-service.js'
import {renderReview, reviewInputFromCandidate, reviewRuleFromTree, type ReviewInput, type ReviewRule} from './review.js'

export type ReviewFormat = 'md' | 'html'

export interface ReviewRequest {
  candidate: string
  out?: string
  format: ReviewFormat
}

export interface ReviewResult {
  candidate: string
  dest?: string
  format: ReviewFormat
  content: string
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c] as string)
}

/**
 * A self-contained HTML page (inline style, no external assets) around the markdown, for CI
 * to publish. A fresh Marked instance: no global options leak between calls. Raw HTML in the
 * markdown is escaped (review text comes from capture data).
 */
export function reviewHtml(markdown: string, title: string): string {
  const marked = new Marked({gfm: true, async: false})
  marked.use({renderer: {html: (t: {text: string}) => escapeHtml(t.text)}})
  const body = marked.parse(markdown) as string
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f23;line-height:1.5}
h1{border-bottom:1px solid #d0d7de;padding-bottom:.3rem}h2{margin-top:1.6rem;border-bottom:1px solid #eaecef}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}
li{margin:.15rem 0}
</style>
</head>
<body>
${body}</body>
</html>
`
}

/** `learn review CANDIDATE.yaml` (learn-compile §13.1, §18.3): strict load, re-render. */
export function runLearnReview(req: ReviewRequest): ReviewResult {
  if (!path.isAbsolute(req.candidate)) throw new PipelockError('PATH_NOT_ABSOLUTE', `candidate must be an absolute path: ${req.candidate}`)
  let st
  try {
    st = lstatSync(req.candidate)
  } catch (e) {
    throw new PipelockError('FILE_NOT_FOUND', `cannot read candidate: ${(e as Error).message}`, {location: {file: req.candidate}})
  }
  if (st.isSymbolicLink() || !st.isFile()) throw notRegular(req.candidate)
  const md = renderReview(reviewInputOf(req.candidate))
  const content = req.format === 'html' ? reviewHtml(md, `Candidate contract review: ${path.basename(req.candidate)}`) : md
  if (req.out !== undefined) {
    if (!path.isAbsolute(req.out)) throw new PipelockError('PATH_NOT_ABSOLUTE', `--out must be an absolute path: ${req.out}`)
    writeOutputs([[req.out, content, '--out']])
    return {candidate: req.candidate, dest: req.out, format: req.format, content}
  }
  return {candidate: req.candidate, format: req.format, content}
}

function notRegular(file: string): PipelockError {
  return new PipelockError('PATH_UNSAFE', `candidate ${file} is not a regular file (symlinks are refused)`)
}

/**
 * The review input of the candidate at `file`: read a chunk at a time, rule by rule, each rule
 * kept only as its review row (contracts `streamContractEnvelopeFd`, no signed bytes: the
 * signature is not checked here), so a 200,000-rule candidate is never decoded whole. Where the
 * streamed read declines (JSON, YAML outside our emitter's subset, any decode or validation
 * error), the ordinary load reads the text and decides, with its own errors; both give the same
 * rows.
 */
function reviewInputOf(file: string): ReviewInput {
  let fd: number
  try {
    // O_NOFOLLOW: a symlink raced into place after the lstat above is refused too.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw notRegular(file)
    throw new PipelockError('FILE_NOT_FOUND', `cannot read candidate: ${(e as Error).message}`, {location: {file}})
  }
  try {
    if (!fstatSync(fd).isFile()) throw notRegular(file)
    const rows: ReviewRule[] = []
    const streamed = streamContractEnvelopeFd(fd, file, (rule) => rows.push(reviewRuleFromTree(rule)), {canonical: false})
    if (streamed !== undefined) return reviewInputFromCandidate(streamed.body, rows)
    // Declined: the rows read so far are void.
    return reviewInputFromCandidate(loadContract(textFromStart(fd), file).body)
  } finally {
    closeSync(fd)
  }
}

/** The whole file at `fd` as UTF-8, read from its first byte (the streamed read moved the descriptor's offset). */
function textFromStart(fd: number): string {
  const size = fstatSync(fd).size
  const buf = Buffer.allocUnsafe(size)
  let at = 0
  while (at < size) {
    const n = readSync(fd, buf, at, size - at, at)
    if (n === 0) break
    at += n
  }
  return buf.toString('utf8', 0, at)
}
