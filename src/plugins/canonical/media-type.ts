// A media type and its parameters as a header spells them (Content-Type, a multipart part's
// Content-Disposition): the one parameter reader of the scanner's body parsing and the contract
// gate's method-override reader.

/** `type/subtype; k=v; k="v"` → the lower-cased type and every parameter in order (duplicates kept). */
export function parseContentType(value: string): {type: string; params: Array<[string, string]>} {
  const semi = value.indexOf(';')
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase()
  return {type, params: semi < 0 ? [] : parseParams(value.slice(semi + 1))}
}

/** `; k=v; k="quoted \" ;"` parameter list (RFC 7231 §3.1.1.1, quoted-pairs undone). */
export function parseParams(s: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  let i = 0
  while (i < s.length) {
    while (i < s.length && (s[i] === ';' || s[i] === ' ' || s[i] === '\t')) i++
    const eq = s.indexOf('=', i)
    const nextSemi = s.indexOf(';', i)
    if (eq < 0 || (nextSemi >= 0 && nextSemi < eq)) {
      // A bare token without a value: skip to the next separator.
      i = nextSemi < 0 ? s.length : nextSemi + 1
      continue
    }
    const name = s.slice(i, eq).trim().toLowerCase()
    i = eq + 1
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++
    let v = ''
    if (s[i] === '"') {
      i++
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++
        v += s[i]
        i++
      }
      i++
    } else {
      const end = s.indexOf(';', i)
      v = s.slice(i, end < 0 ? s.length : end).trim()
      i = end < 0 ? s.length : end
    }
    if (name !== '') out.push([name, v])
  }
  return out
}
