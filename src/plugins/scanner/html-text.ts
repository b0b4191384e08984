/**
 * The visible text of an HTML page, as `/fetch` reads it (§4.1 steps 19–20): the `<title>`, then
 * the text with scripts, styles, comments and tags removed, entities decoded and whitespace
 * collapsed. Response scanning reads the same view of markup on every other path (issue 37 §7:
 * an injection split by tags or entities), so it lives with the scanner. Linear in the input.
 */
const ENTITIES: Record<string, string> = {amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' '}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (all, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)
      return Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : all
    }
    return ENTITIES[e.toLowerCase()] ?? all
  })
}

/** A tag's name at `<`, read in place (sticky) rather than from a slice of the text (issue 36). */
const TAG_NAME = /<\/?\s*([a-z0-9]+)/y
const BLOCK_TAGS: ReadonlySet<string> = new Set(['p', 'div', 'br', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'tr', 'section', 'article', 'header', 'footer', 'ul', 'ol', 'table', 'pre', 'blockquote'])

/** The tag name of `lower` at `lt` as far as `limit` (exclusive): what the name regex reads in `lower.slice(lt, limit)`. */
function tagNameAt(lower: string, lt: number, limit: number): string {
  TAG_NAME.lastIndex = lt
  const m = TAG_NAME.exec(lower)
  if (m === null) return ''
  const name = m[1]!
  const nameStart = lt + m[0].length - name.length
  if (nameStart + name.length <= limit) return name
  return nameStart < limit ? name.slice(0, limit - nameStart) : ''
}

const BLANKS = /[ \t\r\f\v]+/g
/** Whitespace other than LF at the start of a line / at its end (lines are split at LF only). */
const LINE_EDGE_START = /(^|\n)[^\S\n]+/g
const LINE_EDGE_END = /[^\S\n]+(?=\n|$)/g
const NEWLINES = /\n{2,}/g
const OUTER_NEWLINES = /^\n+|\n+$/g

export interface ExtractedPage {
  readonly title: string
  readonly content: string
}

/** Scans the markup once, char by char, so hostile input stays linear. */
export function extractHtmlText(html: string): ExtractedPage {
  let title = ''
  const out: string[] = []
  let i = 0
  const lower = html.toLowerCase()
  while (i < html.length) {
    const lt = html.indexOf('<', i)
    if (lt < 0) {
      out.push(html.slice(i))
      break
    }
    out.push(html.slice(i, lt))
    if (lower.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4)
      i = end < 0 ? html.length : end + 3
      continue
    }
    const gt = html.indexOf('>', lt + 1)
    if (gt < 0) break
    const tag = tagNameAt(lower, lt, Math.min(gt + 1, lt + 40))
    const closing = lower[lt + 1] === '/'
    if (!closing && (tag === 'script' || tag === 'style' || tag === 'noscript' || tag === 'template')) {
      const end = lower.indexOf(`</${tag}`, gt + 1)
      const close = end < 0 ? -1 : html.indexOf('>', end)
      i = close < 0 ? html.length : close + 1
      continue
    }
    if (!closing && tag === 'title') {
      const end = lower.indexOf('</title', gt + 1)
      if (title === '') title = decodeEntities(html.slice(gt + 1, end < 0 ? html.length : end)).replace(/\s+/g, ' ').trim()
      const close = end < 0 ? -1 : html.indexOf('>', end)
      i = close < 0 ? html.length : close + 1
      continue
    }
    if (BLOCK_TAGS.has(tag)) out.push('\n')
    i = gt + 1
  }
  // Per line: runs of blanks as one space, the line trimmed (trim's set is `\s`), empty lines
  // dropped — as whole-text replaces instead of an array of lines (issue 36).
  const content = decodeEntities(out.join(''))
    .replace(BLANKS, ' ')
    .replace(LINE_EDGE_START, '$1')
    .replace(LINE_EDGE_END, '')
    .replace(NEWLINES, '\n')
    .replace(OUTER_NEWLINES, '')
  return {title, content}
}
