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

const BLOCK_TAGS: ReadonlySet<string> = new Set(['p', 'div', 'br', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'tr', 'section', 'article', 'header', 'footer', 'ul', 'ol', 'table', 'pre', 'blockquote'])
/** The longest name any rule above reads ('blockquote'): a longer name is an ordinary tag. */
const LONGEST_NAME = 10

/** JavaScript's `\s` (the class the name regex and `trim` use), LF included. */
function isJsSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d)
  if (c < 0xa0) return false
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
}

/**
 * The tag name of `lower` at `lt` as far as `limit` (exclusive), or '' — what `/<\/?\s*([a-z0-9]+)/y`
 * reads at `lt`, cut at `limit`; a name longer than any rule reads comes back as '' (it matches
 * none of them). Read by character codes: no match array or capture per tag (issue 36).
 */
function tagNameAt(lower: string, lt: number, limit: number): string {
  // `lower` is the page lowercased: where lowercasing changed its length ('İ' reads 'i̇'), the
  // page's '<' can sit elsewhere in it, and the regex read no name there.
  if (lower.charCodeAt(lt) !== 0x3c) return ''
  let k = lt + 1
  if (lower.charCodeAt(k) === 0x2f) k++
  while (k < lower.length && isJsSpace(lower.charCodeAt(k))) k++
  const start = k
  for (;;) {
    const c = lower.charCodeAt(k)
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) k++
    else break
  }
  const end = Math.min(k, limit)
  if (end <= start || end - start > LONGEST_NAME) return ''
  return lower.slice(start, end)
}

/**
 * The content's lines with runs of blanks (`[ \t\r\f\v]`) as one space, each line trimmed of
 * `\s`, empty lines dropped, joined by LF (lines split at LF only) — one walk instead of five
 * whole-text regex replaces (issue 36); html-text-differential.test.ts holds the line form.
 */
function collapseLines(s: string): string {
  let out = ''
  let from = 0
  const n = s.length
  while (from <= n) {
    let nl = s.indexOf('\n', from)
    if (nl < 0) nl = n
    let a = from
    let b = nl
    while (a < b && isJsSpace(s.charCodeAt(a))) a++
    while (b > a && isJsSpace(s.charCodeAt(b - 1))) b--
    if (a < b) {
      if (out !== '') out += '\n'
      let seg = a
      for (let k = a; k < b; k++) {
        const c = s.charCodeAt(k)
        if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0c && c !== 0x0b) continue
        let e = k + 1
        for (;;) {
          const d = s.charCodeAt(e)
          if (e < b && (d === 0x20 || d === 0x09 || d === 0x0d || d === 0x0c || d === 0x0b)) e++
          else break
        }
        // A single space stays in its segment; any other run becomes one space.
        if (e - k > 1 || c !== 0x20) {
          out += s.slice(seg, k) + ' '
          seg = e
        }
        k = e - 1
      }
      out += s.slice(seg, b)
    }
    from = nl + 1
  }
  return out
}

export interface ExtractedPage {
  readonly title: string
  readonly content: string
}

/** Scans the markup once, char by char, so hostile input stays linear. */
export function extractHtmlText(html: string): ExtractedPage {
  let title = ''
  // Built by concatenation (a rope, flattened once by the reads below): ≈ 12 % quicker on a
  // 64 KiB page than an array of slices joined (issue 36).
  let out = ''
  let i = 0
  const lower = html.toLowerCase()
  while (i < html.length) {
    const lt = html.indexOf('<', i)
    if (lt < 0) {
      out += html.slice(i)
      break
    }
    out += html.slice(i, lt)
    if (lower.charCodeAt(lt + 1) === 0x21 && lower.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4)
      i = end < 0 ? html.length : end + 3
      continue
    }
    const gt = html.indexOf('>', lt + 1)
    if (gt < 0) break
    const tag = tagNameAt(lower, lt, Math.min(gt + 1, lt + 40))
    const closing = lower.charCodeAt(lt + 1) === 0x2f
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
    if (tag !== '' && BLOCK_TAGS.has(tag)) out += '\n'
    i = gt + 1
  }
  const content = collapseLines(out.includes('&') ? decodeEntities(out) : out)
  return {title, content}
}
