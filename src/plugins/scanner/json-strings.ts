/**
 * The strings of a JSON text read as the agent's model reads a parsed document: keys and values
 * in document order, joined by spaces. An injection cut into two strings
 * (`{"a":"Ignore all","b":"previous instructions"}`) is whole there, as one cut by tags is whole
 * in a page's visible text.
 */

/** The strings of `s` joined by spaces; null when `s` is not a JSON object or array, or holds fewer than two strings. */
export function jsonStringsView(s: string): string | null {
  const first = s.trimStart().charCodeAt(0)
  if (first !== 0x7b && first !== 0x5b) return null // `{` or `[`
  let doc: unknown
  try {
    doc = JSON.parse(s)
  } catch {
    return null
  }
  const out: string[] = []
  // A walk with its own stack: a document nested as deep as JSON.parse allows never overflows ours.
  const stack: unknown[] = [doc]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'string') out.push(v)
    else if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push(v[i])
    else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v)
      for (let i = entries.length - 1; i >= 0; i--) stack.push(entries[i]![1], entries[i]![0])
    }
  }
  return out.length < 2 ? null : out.join(' ')
}
