import type {CST} from 'yaml'

/**
 * The offset of the first collection (mapping or sequence, block or flow) nested more than `max`
 * deep in one of the YAML parser's tokens, the outermost counted as 1; undefined when none is.
 * Walked without recursion: the library builds documents recursively, and nesting deeper than
 * its stack allows must be measured, and refused, before it does.
 */
export function firstCollectionDeeperThan(token: CST.Token, max: number): number | undefined {
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
