/**
 * The charsets an HTML page declares in its own markup: `<meta charset="…">` and
 * `<meta http-equiv="Content-Type" content="…; charset=…">` in its first 1024 bytes, found the
 * way a browser's pre-scan finds them (tags read with their attributes, so a `>` inside a quoted
 * value does not end them; comments skipped). A page served without a charset in its
 * Content-Type is decoded by its reader per these.
 *
 * Written out rather than run through htmlparser2 (the Browser Shield's parser): this is the HTML
 * standard's pre-scan, a walk over at most 1024 bytes that drops a tag the bound cuts off, on the
 * path of every relayed HTML response; a full tokenizer would do more than it asks, on every page.
 */

/** How far into a page the pre-scan looks (the HTML standard's figure). */
export const META_PRESCAN_BYTES = 1024

/** ASCII white space in the pre-scan's sense (tab, LF, FF, CR, space). */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)
}

/**
 * The charset labels (trimmed, lower-case, in order, each once) the `<meta>` tags in the first
 * 1024 bytes of `body` declare; empty when there are none. Every declaring tag counts, not only
 * the first: a page is read in each of them.
 */
export function metaCharsets(body: Uint8Array): string[] {
  const n = Math.min(body.byteLength, META_PRESCAN_BYTES)
  // Latin-1: one character per byte, so the ASCII markup reads as itself whatever the charset.
  const s = Buffer.from(body.buffer, body.byteOffset, n).toString('latin1').toLowerCase()
  const out: string[] = []
  let i = s.indexOf('<')
  while (i >= 0 && i < s.length) {
    if (s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i + 4)
      if (end < 0) break
      i = s.indexOf('<', end + 3)
      continue
    }
    const tagAt = s.charCodeAt(i + 1) === 0x2f ? i + 2 : i + 1
    if (!isLetter(s.charCodeAt(tagAt))) {
      // `<!…>`, `</…>` without a name, `<?…>`: skipped to its end; a lone `<`: passed over.
      const end = /[!/?]/.test(s[i + 1] ?? '') ? s.indexOf('>', i + 1) : i
      if (end < 0) break
      i = s.indexOf('<', end + 1)
      continue
    }
    let j = tagAt
    while (j < s.length && !isSpace(s.charCodeAt(j)) && s[j] !== '>' && s[j] !== '/') j++
    const name = s.slice(tagAt, j)
    const tag = attributes(s, j)
    if (tag === null) break
    if (tagAt === i + 1 && name === 'meta') {
      const label = charsetOf(tag.attrs)
      if (label !== null && label !== '' && !out.includes(label)) out.push(label)
    }
    i = s.indexOf('<', tag.end)
  }
  return out
}

/** A tag's attributes from `j` (just past its name) to its `>`; null when the tag is cut off by the end of the prefix. */
function attributes(s: string, j: number): {readonly attrs: Map<string, string>; readonly end: number} | null {
  const attrs = new Map<string, string>()
  for (;;) {
    while (j < s.length && (isSpace(s.charCodeAt(j)) || s[j] === '/')) j++
    if (j >= s.length) return null
    if (s[j] === '>') return {attrs, end: j + 1}
    const start = j
    // An attribute name may start with `=`; it ends at white space, `/`, `>` or a later `=`.
    j++
    while (j < s.length && !isSpace(s.charCodeAt(j)) && s[j] !== '/' && s[j] !== '>' && s[j] !== '=') j++
    const name = s.slice(start, j)
    while (j < s.length && isSpace(s.charCodeAt(j))) j++
    let value = ''
    if (s[j] === '=') {
      j++
      while (j < s.length && isSpace(s.charCodeAt(j))) j++
      const q = s[j]
      if (q === '"' || q === "'") {
        const close = s.indexOf(q, j + 1)
        if (close < 0) return null
        value = s.slice(j + 1, close)
        j = close + 1
      } else {
        const from = j
        while (j < s.length && !isSpace(s.charCodeAt(j)) && s[j] !== '>') j++
        value = s.slice(from, j)
      }
    }
    // The first of a repeated attribute counts.
    if (!attrs.has(name)) attrs.set(name, value)
  }
}

/** A `<meta>` tag's charset: its `charset` attribute, else the one its `http-equiv="content-type"` content names. */
function charsetOf(attrs: ReadonlyMap<string, string>): string | null {
  const charset = attrs.get('charset')
  if (charset !== undefined) return charset.trim()
  const content = attrs.get('content')
  if (attrs.get('http-equiv')?.trim() !== 'content-type' || content === undefined) return null
  return charsetInContent(content)
}

/** The charset a `content` value names (`text/html; charset=utf-16le`, quoted or not); null when none. */
function charsetInContent(content: string): string | null {
  for (let at = content.indexOf('charset'); at >= 0; at = content.indexOf('charset', at + 7)) {
    let j = at + 7
    while (j < content.length && isSpace(content.charCodeAt(j))) j++
    if (content[j] !== '=') continue
    j++
    while (j < content.length && isSpace(content.charCodeAt(j))) j++
    const q = content[j]
    if (q === '"' || q === "'") {
      const close = content.indexOf(q, j + 1)
      return close < 0 ? null : content.slice(j + 1, close).trim()
    }
    let k = j
    while (k < content.length && !isSpace(content.charCodeAt(k)) && content[k] !== ';') k++
    return k === j ? null : content.slice(j, k)
  }
  return null
}
