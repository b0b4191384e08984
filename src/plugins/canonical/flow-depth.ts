/** Deepest flow nesting a signed artifact may have (they nest a handful of levels). */
export const MAX_FLOW_DEPTH = 512

/**
 * The nesting of flow brackets (`[`, `{`) over a text read whole or in pieces, quotes ignored (it
 * can only over-estimate: fail closed). The yaml library exhausts memory on pathological nesting
 * (tens of thousands of `[`), so the strict parser bounds it before parsing.
 */
export class FlowDepth {
  private depth = 0

  /** Reads `text` on from the depth the pieces before it left: the offset in it of the first bracket that opens more than MAX_FLOW_DEPTH levels, else -1. */
  exceededIn(text: string): number {
    // Only brackets change the depth: the regex engine skips the rest (a 36 MB contract has a few
    // thousand brackets; a char-by-char loop was ≈ 120 ms of its load).
    const brackets = /[[\]{}]/g
    for (let m = brackets.exec(text); m !== null; m = brackets.exec(text)) {
      const c = text.charCodeAt(m.index)
      if (c === 0x5b || c === 0x7b) {
        if (++this.depth > MAX_FLOW_DEPTH) return m.index
      } else if (this.depth > 0) this.depth--
    }
    return -1
  }
}
