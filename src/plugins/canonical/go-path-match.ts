// Go's `path.Match`, shared by contract selection (agent_glob) and suppress entries (operations.md §4).

/** Go `path.Match`: returns false for no match, undefined for a malformed pattern. */
export function goPathMatch(pattern: string, name: string): boolean | undefined {
  let pat = [...pattern]
  let nm = [...name]
  outer: while (pat.length > 0) {
    const sc = scanChunk(pat)
    pat = sc.rest
    if (sc.star && sc.chunk.length === 0) return !nm.includes('/')
    const r = matchChunk(sc.chunk, nm)
    if (r === undefined) return undefined
    if (r !== false && (r.length === 0 || pat.length > 0)) {
      nm = r
      continue
    }
    if (sc.star) {
      for (let i = 0; i < nm.length && nm[i] !== '/'; i++) {
        const t = matchChunk(sc.chunk, nm.slice(i + 1))
        if (t === undefined) return undefined
        if (t !== false) {
          if (pat.length === 0 && t.length > 0) continue
          nm = t
          continue outer
        }
      }
    }
    // Go validates the rest of the pattern before reporting no match.
    while (pat.length > 0) {
      const more = scanChunk(pat)
      pat = more.rest
      if (matchChunk(more.chunk, []) === undefined) return undefined
    }
    return false
  }
  return nm.length === 0
}

function scanChunk(p: string[]): {star: boolean; chunk: string[]; rest: string[]} {
  let star = false
  let i0 = 0
  while (i0 < p.length && p[i0] === '*') {
    i0++
    star = true
  }
  const q = p.slice(i0)
  let inRange = false
  let i = 0
  scan: for (; i < q.length; i++) {
    switch (q[i]) {
      case '\\':
        if (i + 1 < q.length) i++
        break
      case '[':
        inRange = true
        break
      case ']':
        inRange = false
        break
      case '*':
        if (!inRange) break scan
        break
    }
  }
  return {star, chunk: q.slice(0, i), rest: q.slice(i)}
}

function getEsc(chunk: string[]): {r: string; rest: string[]} | undefined {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') return undefined
  let c = chunk
  if (c[0] === '\\') {
    c = c.slice(1)
    if (c.length === 0) return undefined
  }
  const rest = c.slice(1)
  if (rest.length === 0) return undefined
  return {r: c[0] as string, rest}
}

/** Returns the remaining name on a match, false on no match, undefined on a bad pattern. */
function matchChunk(chunkIn: string[], sIn: string[]): string[] | false | undefined {
  let chunk = chunkIn
  let s = sIn
  let failed = false
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true
    switch (chunk[0]) {
      case '[': {
        let r = -1
        if (!failed) {
          r = (s[0] as string).codePointAt(0) as number
          s = s.slice(1)
        }
        chunk = chunk.slice(1)
        let negated = false
        if (chunk.length > 0 && chunk[0] === '^') {
          negated = true
          chunk = chunk.slice(1)
        }
        let match = false
        let nrange = 0
        for (;;) {
          if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) {
            chunk = chunk.slice(1)
            break
          }
          const lo = getEsc(chunk)
          if (lo === undefined) return undefined
          chunk = lo.rest
          let hi = lo.r
          if (chunk[0] === '-') {
            const h = getEsc(chunk.slice(1))
            if (h === undefined) return undefined
            chunk = h.rest
            hi = h.r
          }
          const l = lo.r.codePointAt(0) as number
          const hh = hi.codePointAt(0) as number
          if (l <= r && r <= hh) match = true
          nrange++
        }
        if (match === negated) failed = true
        break
      }
      case '?':
        if (!failed) {
          if (s[0] === '/') failed = true
          s = s.slice(1)
        }
        chunk = chunk.slice(1)
        break
      default:
        if (chunk[0] === '\\') {
          chunk = chunk.slice(1)
          if (chunk.length === 0) return undefined
        }
        if (!failed) {
          if (chunk[0] !== s[0]) failed = true
          s = s.slice(1)
        }
        chunk = chunk.slice(1)
    }
  }
  return failed ? false : s
}
