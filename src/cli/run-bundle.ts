import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {Script} from 'node:vm'

/**
 * Loads `pipelock run`'s oclif-free start (dist/run/direct.cjs, scripts/bundle-run.mjs) with V8's
 * code cache (bench: startup). Node 20 has no compile cache for ES modules, and V8 compiling
 * the ≈ 2.5 MB of source the start loads was the largest share of its CPU (bench:
 * startup). The start is therefore built as ONE CommonJS file, compiled here as a
 * `vm.Script` with the `cachedData` that `npm run build` made for it (direct.cjs.cache).
 *
 * Correctness never depends on the cache. It is used only when its header names the SHA-256 of
 * the very bundle text read (V8 itself checks only the length of the source); V8 then rejects it
 * when it was made by another V8 version or under other V8 flags — and compiles the source as
 * without a cache. `bin/run.js` compiles before it sets its start-up V8 flags (young generation,
 * compilers), which change V8's flag hash: the build makes the cache under Node's defaults.
 */

/**
 * What the bundle's wrapper receives: CommonJS's five, the bundle's own URL (for `import.meta.url`),
 * and an `import()` for code the bundle loads as ES modules. V8 gives a script compiled from a code
 * cache no dynamic-import callback, so a bundle that must `import()` (oclif loading a command file,
 * dist/run/oclif.cjs) calls this parameter instead: an ES module's own `import()`.
 */
const PARAMS = ['exports', 'require', 'module', '__filename', '__dirname', '__pipelockBundleUrl', '__pipelockImport']

/** The bundle's `import()`: this module's own (see PARAMS). */
const importModule = (specifier: string): Promise<unknown> => import(specifier)

/** What V8 compiles before the bundle's first character (a CPU profile of the bundle shifts its first line by this). */
export const BUNDLE_WRAPPER_PREFIX = `(function (${PARAMS.join(', ')}) {`

/** The text V8 compiles: the bundle inside the wrapper that `prefix` opens (the cache belongs to exactly this). */
function wrap(source: string, prefix = BUNDLE_WRAPPER_PREFIX): string {
  return `${prefix}${source}\n})`
}

/**
 * `file` inside the wrapper `prefix` opens, compiled with the code cache in `cacheFile` when it
 * belongs to it; `cacheRejected` is V8's answer, undefined when no cache was offered.
 */
export function compileWrapped(file: string, cacheFile: string, prefix = BUNDLE_WRAPPER_PREFIX): {script: Script; cacheRejected: boolean | undefined} {
  const bytes = readFileSync(file)
  const cachedData = cacheFor(bytes, cacheFile)
  const script = new Script(wrap(bytes.toString('utf8'), prefix), {filename: file, ...(cachedData === undefined ? {} : {cachedData})})
  return {script, cacheRejected: cachedData === undefined ? undefined : script.cachedDataRejected === true}
}

/** The cache file: the SHA-256 of the bundle it belongs to, then V8's cached data. */
const DIGEST_BYTES = 32

export interface CompiledBundle {
  /** Whether cached data was offered to V8 (present and made from this bundle's text). */
  readonly cacheOffered: boolean
  /** V8's answer when it was offered (`vm.Script#cachedDataRejected`); undefined when not. */
  readonly cacheRejected: boolean | undefined
  /** Runs the bundle's top level once and returns its exports. */
  evaluate(): Record<string, unknown>
  /** The compiled script (the build asks it for cached data). */
  readonly script: Script
}

/** Compiles the CommonJS bundle `file` with the code cache in `cacheFile` when it belongs to it. */
export function compileBundle(file: string, cacheFile: string): CompiledBundle {
  const {script, cacheRejected} = compileWrapped(file, cacheFile)
  let exports: Record<string, unknown> | undefined
  return {
    cacheOffered: cacheRejected !== undefined,
    cacheRejected,
    script,
    evaluate() {
      if (exports !== undefined) return exports
      const module = {exports: {} as Record<string, unknown>}
      const fn = script.runInThisContext() as (...args: unknown[]) => void
      fn.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file), pathToFileURL(file).href, importModule)
      exports = module.exports
      return exports
    },
  }
}

function cacheFor(bundle: Buffer, cacheFile: string): Buffer | undefined {
  let cache: Buffer
  try {
    cache = readFileSync(cacheFile)
  } catch {
    return undefined
  }
  if (cache.length <= DIGEST_BYTES) return undefined
  const digest = createHash('sha256').update(bundle).digest()
  return digest.equals(cache.subarray(0, DIGEST_BYTES)) ? cache.subarray(DIGEST_BYTES) : undefined
}

/**
 * The cache file's contents for the bundle `file` from its compiled `script`
 * (scripts/bundle-run.mjs, in a node started without flags, after a start of `run` has run in it:
 * V8's cached data then also holds the functions the start compiled lazily).
 */
export function bundleCacheContents(file: string, script: Script): Buffer {
  return Buffer.concat([createHash('sha256').update(readFileSync(file)).digest(), script.createCachedData()])
}

/** Writes `cacheFile` for the bundle `file` as compiled, without running it (the build's fallback). */
export function writeBundleCache(file: string, cacheFile: string): number {
  const data = bundleCacheContents(file, new Script(wrap(readFileSync(file, 'utf8')), {filename: file}))
  writeFileSync(cacheFile, data)
  return data.length
}

/**
 * Node's built-in modules `pipelock run` loads by the time it served its first request (its
 * module load list, beyond what Node itself loads to start; pinned by
 * test/e2e/startup-laziness.test.ts). Setting any V8 flag from inside the process changes V8's
 * flag hash, and Node's own library then no longer matches the code cache built into the node
 * binary: every built-in loaded after `bin/run.js` set its start-up flags was compiled from
 * source, ≈ 2.5× the CPU (bench: startup). bin/run.js loads these first.
 * (`node:child_process` and `node:cluster` come from `net.Server#listen`.) `node:http2` is not
 * among them: nothing `run` starts with uses it.
 */
export const RUN_BUILTINS = [
  'node:os', 'node:process', 'node:crypto', 'node:diagnostics_channel', 'node:net', 'node:http', 'node:assert', 'node:tls',
  'node:fs/promises', 'node:zlib', 'node:dgram', 'node:dns', 'node:dns/promises', 'node:perf_hooks',
  'node:child_process', 'node:cluster',
] as const

/**
 * The same for the stdio MCP wrap (`mcp proxy -- CMD`, bench: mcp): the built-ins its bundle
 * (dist/run/mcp) loads by its first answered call, which bin/run.js loads before it holds the
 * young generation (a V8 flag). `node:child_process` spawns the server (and loads `node:net` and
 * `node:dgram`); `node:worker_threads` is the scan pool's (its threads start only for a large
 * message); `node:module` is the bundle's `createRequire`. Pinned by startup-laziness.test.ts.
 */
export const MCP_WRAP_BUILTINS = [
  'node:os', 'node:crypto', 'node:diagnostics_channel', 'node:net', 'node:child_process', 'node:worker_threads',
  'node:timers/promises', 'node:module',
] as const

/** Loads the built-ins `ids` (a built-in is loaded once; later imports of it cost nothing). */
export function preloadBuiltins(ids: readonly string[]): void {
  for (const id of ids) process.getBuiltinModule(id)
}

/** Loads RUN_BUILTINS. */
export function preloadRunBuiltins(): void {
  preloadBuiltins(RUN_BUILTINS)
}
