import {lstatSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {Marked} from 'marked'
import {loadContract} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {writeOutputs} from './compile-service.js'
import {renderReview, reviewInputFromCandidate} from './review.js'

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
  if (st.isSymbolicLink() || !st.isFile()) throw new PipelockError('PATH_UNSAFE', `candidate ${req.candidate} is not a regular file (symlinks are refused)`)
  const env = loadContract(readFileSync(req.candidate, 'utf8'), req.candidate)
  const md = renderReview(reviewInputFromCandidate(env.body))
  const content = req.format === 'html' ? reviewHtml(md, `Candidate contract review: ${path.basename(req.candidate)}`) : md
  if (req.out !== undefined) {
    if (!path.isAbsolute(req.out)) throw new PipelockError('PATH_NOT_ABSOLUTE', `--out must be an absolute path: ${req.out}`)
    writeOutputs([[req.out, content, '--out']])
    return {candidate: req.candidate, dest: req.out, format: req.format, content}
  }
  return {candidate: req.candidate, format: req.format, content}
}
