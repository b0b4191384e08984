import {createRequire} from 'node:module'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import type {Script} from 'node:vm'
import {BUNDLE_WRAPPER_PREFIX, compileWrapped} from './run-bundle.js'

/**
 * Loads the oclif commands' bundle (dist/run, scripts/bundle-run.mjs) as CommonJS scripts compiled
 * with V8's code cache (bench: startup). esbuild splits the commands into entry files and shared
 * chunks as ES modules; Node 20 compiles an ES module from source at every start (it has no
 * code cache for them) and resolves, links and instantiates each one, which was the largest part
 * of a small command's own start-up (`verify-receipt` 445 → 366 ms of CPU, `check` 615 → 483,
 * measured by alternating the two loaders). The build therefore turns every file of that bundle
 * into `X.cjs` (the same code, its imports as `require`) with `X.cjs.cache` beside it, and each
 * command's entry `X.js` into a two-line ES module that loads `X.cjs` here.
 *
 * A script's imports of another file of the bundle (`./chunk-….js`) load that file's script here,
 * once per process, as an ES module graph would; every other specifier (Node's built-ins, the
 * external @oclif/core and re2) goes to Node's own `require`. A dynamic `import()` in the bundle
 * calls `__pipelockImport`: a file of the bundle loads here, anything else (a `file:` URL into
 * dist/src, kept outside the bundle on purpose) by Node's own `import()` from this module (V8
 * gives a script compiled from a code cache no `import()` of its own, src/cli/run-bundle.ts).
 *
 * The scripts run in strict mode with `this` undefined at their top level, as modules do, and
 * `__pipelockBundleUrl` stands for `import.meta.url`. Correctness never depends on the cache: it
 * is offered only when its header names the SHA-256 of the script's text, and V8 rejects one made
 * by another V8 or under other flags (the script then compiles from source).
 */

/** What V8 compiles before a script's first character: the bundles' wrapper, in strict mode as a module is. */
const SCRIPT_MODULE_PREFIX = `${BUNDLE_WRAPPER_PREFIX}'use strict';`

/** A loaded script: its exports, and how its compile went (the build writes caches from `script`). */
export interface ScriptModule {
  readonly file: string
  readonly exports: Record<string, unknown>
  readonly script: Script
  /** Whether a cache was offered, and V8's answer (undefined when none was offered). */
  readonly cacheRejected: boolean | undefined
}

const loaded = new Map<string, ScriptModule>()

/** Every script loaded in this process so far, in load order (the build makes their caches). */
export function loadedScriptModules(): ScriptModule[] {
  return [...loaded.values()]
}

/** The exports of the script `file` (a path or `file:` URL of an `X.cjs`), loading it and what it requires once. */
export function loadScriptModule(file: string | URL): Record<string, unknown> {
  const filename = typeof file === 'string' && !file.startsWith('file:') ? file : fileURLToPath(file)
  const hit = loaded.get(filename)
  if (hit !== undefined) return hit.exports
  const {script, cacheRejected} = compileWrapped(filename, `${filename}.cache`, SCRIPT_MODULE_PREFIX)
  const module = {exports: {} as Record<string, unknown>}
  // Registered before it runs, as Node registers a CommonJS module: a cycle sees its exports so far.
  loaded.set(filename, {
    file: filename, script, cacheRejected,
    get exports() {
      return module.exports
    },
  })
  const dir = path.dirname(filename)
  const nodeRequire = createRequire(filename)
  const require = (specifier: string): unknown => ownFile(specifier) ? loadScriptModule(scriptOf(dir, specifier)) : nodeRequire(specifier)
  const importModule = async (specifier: string): Promise<unknown> => ownFile(specifier) ? loadScriptModule(scriptOf(dir, specifier)) : import(specifier)
  const fn = script.runInThisContext() as (...args: unknown[]) => void
  fn.call(undefined, module.exports, require, module, filename, dir, pathToFileURL(filename).href, importModule)
  return module.exports
}

/** A relative specifier: another file of the bundle. */
const ownFile = (specifier: string): boolean => specifier.startsWith('./') || specifier.startsWith('../')

/** The script of the bundle file `specifier` (its `.js` name) imported from `dir`. */
const scriptOf = (dir: string, specifier: string): string => path.resolve(dir, specifier).replace(/\.js$/, '.cjs')
