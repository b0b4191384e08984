import type {CST} from 'yaml'

/**
 * The offset of the first collection (mapping or sequence, block or flow) nested more than `max`
 * deep in one of the YAML parser's tokens, the outermost counted as 1; undefined when none is.
 * Walked without recursion: the library builds documents recursively, and nesting deeper than
 * its stack allows must be measured, and refused, before it does.
 */
function firstCollectionDeeperThan(token: CST.Token, max: number): number | undefined {
  const stack: [CST.Token, number][] = [[token, 0]]
  while (stack.length > 0) {
    const [t, depth] = stack.pop()!
    if (t.type === 'document') {
      if (t.value !== undefined) stack.push([t.value, depth])
    } else if (t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection') {
      if (depth + 1 > max) return t.offset
      for (const item of t.items) {
        if ('key' in item && item.key !== undefined && item.key !== null) stack.push([item.key, depth + 1])
        if (item.value !== undefined) stack.push([item.value, depth + 1])
      }
    }
  }
  return undefined
}

/**
 * The parser's `tokens`, each handed on only once no collection in it is nested more than `max`
 * deep; otherwise `refuse` is called with the offset of the first one that is (it throws). Fed to
 * the library's Composer, which builds each document as it arrives.
 */
export function* depthBounded(tokens: Iterable<CST.Token>, max: number, refuse: (offset: number) => never): Generator<CST.Token> {
  for (const token of tokens) {
    const deep = firstCollectionDeeperThan(token, max)
    if (deep !== undefined) refuse(deep)
    yield token
  }
}
