// Source transform for a bundle (scripts/bundle-run.mjs; bench: mcp, RSS per MCP wrap): rewrites
// `import {a, b} from '../plugin/index.js'` in a dist/src file into imports from the files that
// define `a` and `b`, following the index's re-exports (`export {…} from`, `export * from`, nested
// index files). The code is unchanged: the same bindings of the same modules.
//
// Why: esbuild splits shared code by file, and a file reached through an index counts as reached by
// every re-export of that index. In a build with lazily imported parts (the MCP wrap's bridges,
// listener and evidence steps are `import()`ed when configured) the start-up chunks then hold every
// file the index re-exports that some lazy part uses: the wrap loaded the receipt schemas, the
// contract store and chokidar without any of them being configured. With direct edges the start-up
// chunks hold only what the start-up code imports.
import {readFileSync} from 'node:fs'
import path from 'node:path'

const IMPORT = /^import \{([^}]*)\} from '(\.{1,2}\/[^']*\/index\.js)';$/gm
const REEXPORT = /^export \{([^}]*)\} from '(\.{1,2}\/[^']*)';$/gm
const STAR = /^export \* from '(\.{1,2}\/[^']*)';$/gm
const DECLARED = /^export (?:async )?(?:function\*?|const|let|var|class) ([A-Za-z_$][\w$]*)/gm
const LOCAL_EXPORT = /^export \{([^}]*)\};$/gm

/** `a, b as c` → [[exported, imported]] pairs; `type X` entries (none in emitted JS) are skipped. */
function specifiers(list) {
  return list.split(',').map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('type ')).map((s) => {
    const [imported, exported = imported] = s.split(/\s+as\s+/)
    return [exported, imported]
  })
}

/**
 * Where each name exported by `file` is defined: name → {file, name}. A name `file` declares itself
 * (or one that cannot be traced) maps to `file`. Memoised per build.
 */
function exportMap(file, cache) {
  const known = cache.get(file)
  if (known !== undefined) return known
  const map = new Map()
  cache.set(file, map)
  const text = readFileSync(file, 'utf8')
  const dir = path.dirname(file)
  for (const m of text.matchAll(DECLARED)) map.set(m[1], {file, name: m[1]})
  for (const m of text.matchAll(LOCAL_EXPORT)) for (const [exported] of specifiers(m[1])) map.set(exported, {file, name: exported})
  for (const m of text.matchAll(REEXPORT)) {
    const target = path.resolve(dir, m[2])
    const inner = exportMap(target, cache)
    for (const [exported, imported] of specifiers(m[1])) map.set(exported, inner.get(imported) ?? {file: target, name: imported})
  }
  for (const m of text.matchAll(STAR)) {
    const target = path.resolve(dir, m[1])
    for (const [name, where] of exportMap(target, cache)) if (name !== 'default' && !map.has(name)) map.set(name, where)
  }
  return map
}

/** The rewrite for one dist/src file's text (`file`: its absolute path); `cache` lives for one build. */
export function directImports(text, file, cache) {
  const dir = path.dirname(file)
  return text.replace(IMPORT, (whole, list, from) => {
    const barrel = path.resolve(dir, from)
    const map = exportMap(barrel, cache)
    const byFile = new Map()
    for (const [local, imported] of specifiers(list)) {
      const where = map.get(imported) ?? {file: barrel, name: imported}
      const spec = where.name === local ? local : `${where.name} as ${local}`
      byFile.set(where.file, [...(byFile.get(where.file) ?? []), spec])
    }
    return [...byFile].map(([f, specs]) => {
      let rel = path.relative(dir, f).split(path.sep).join('/')
      if (!rel.startsWith('.')) rel = `./${rel}`
      return `import { ${specs.join(', ')} } from '${rel}';`
    }).join('\n')
  })
}
