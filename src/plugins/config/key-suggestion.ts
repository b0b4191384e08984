import type {z} from 'zod'
import {nearestSpelling} from '../errors/index.js'
import type {TreePath} from './yaml-source.js'

/**
 * "Did you mean": where an unknown config key was most likely meant to go, so that a typo or a
 * key one level off is answered with the fix (`unknown key "forward_proxy.enabeld" (did you mean
 * "forward_proxy.enabled"?)`, `unknown key "fetch_proxy.max_url_length" (did you mean
 * "fetch_proxy.monitoring.max_url_length"?)`).
 */

/**
 * The path an unknown `key` in the mapping at `at` was most likely meant to have: a sibling it
 * misspells (`suggestKey`), else the one mapping within two levels under `at` that accepts it as
 * written; undefined when neither is.
 */
export function suggestKeyPath(schema: z.ZodType, at: TreePath, key: string): TreePath | undefined {
  const accepted = keysAt(schema, at)
  if (accepted === undefined) return undefined
  const sibling = suggestKey(key, accepted)
  if (sibling !== undefined) return [...at, sibling]
  const found: TreePath[] = []
  const look = (path: TreePath, keys: readonly string[], depth: number): void => {
    for (const k of keys) {
      const child = [...path, k]
      const under = keysAt(schema, child)
      if (under === undefined) continue
      if (under.includes(key)) found.push([...child, key])
      if (depth > 1) look(child, under, depth - 1)
    }
  }
  look(at, accepted, 2)
  return found.length === 1 ? found[0] : undefined
}

/** The keys a mapping at `path` of `schema` accepts, in schema order; undefined where `path` leads to no mapping. */
export function keysAt(schema: z.ZodType, path: TreePath): readonly string[] | undefined {
  let s: ZodNode | undefined = schema as unknown as ZodNode
  for (const step of path) {
    s = unwrapped(s)
    const def: ZodDef | undefined = s?._zod.def
    if (def === undefined) return undefined
    if (def.type === 'object' && typeof step === 'string') s = def.shape?.[step]
    else if (def.type === 'array' && typeof step === 'number') s = def.element
    else if (def.type === 'record' && typeof step === 'string') s = def.valueType
    else return undefined
  }
  const def = unwrapped(s)?._zod.def
  return def?.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : undefined
}

/**
 * The accepted key `key` most likely stands for: the same words in snake_case (`maxUrlLength`,
 * `Max-URL-Length`), else the nearest misspelling of one (`nearestSpelling`: `enabeld`, `moed`);
 * undefined when none is.
 */
export function suggestKey(key: string, accepted: readonly string[]): string | undefined {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s]+/g, '_')
    .toLowerCase()
  if (snake !== key && accepted.includes(snake)) return snake
  return nearestSpelling(snake, accepted)
}

// What `keysAt` reads of a zod v4 schema: its definition (`_zod.def`), the same for every kind of
// schema, rather than one class check per wrapper kind.
interface ZodDef {
  readonly type: string
  readonly shape?: Readonly<Record<string, ZodNode>>
  readonly element?: ZodNode
  readonly valueType?: ZodNode
  readonly innerType?: ZodNode
  readonly in?: ZodNode
}
interface ZodNode {
  readonly _zod: {readonly def: ZodDef}
}

/** The schema under optional, nullable, default and pipe wrappers. */
function unwrapped(s: ZodNode | undefined): ZodNode | undefined {
  for (let n = 0; s !== undefined && n < 16; n++) {
    const def: ZodDef = s._zod.def
    const inner: ZodNode | undefined = def.innerType ?? (def.type === 'pipe' ? def.in : undefined)
    if (inner === undefined) return s
    s = inner
  }
  return s
}
