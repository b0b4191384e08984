import {existsSync} from 'node:fs'
import {createRequire, Module} from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {type CompiledBundle, compileBundle} from './run-bundle.js'

/**
 * Loads oclif for bin/run.js from dist/run/oclif.cjs (scripts/bundle-run.mjs): @oclif/core and the
 * packages it requires as ONE CommonJS file, compiled with V8's code cache (src/cli/run-bundle.ts).
 * Loaded from node_modules, oclif is ≈ 160 CommonJS files, and resolving, reading and compiling
 * them was ≈ 100 ms of the ≈ 230 ms of CPU a small command used (bench: startup).
 *
 * The bundle's exports are registered in Node's CommonJS cache under @oclif/core's own main file,
 * so every other importer gets this one copy: the command chunks (`import … from '@oclif/core'`:
 * Node's ES module loader takes a CommonJS module's exports from that cache), the help class, the
 * hooks and oclif's plugins (`require`). One copy matters: a command class extends oclif's
 * `Command`, and oclif tells its own errors by class.
 *
 * Without the bundle (a tree where only tsc ran), oclif is imported from node_modules as before.
 */
export async function loadOclif(): Promise<typeof import('@oclif/core')> {
  const file = fileURLToPath(new URL('../../run/oclif.cjs', import.meta.url))
  if (!existsSync(file)) return import('@oclif/core')
  return registerOclifBundle(compileBundle(file, `${file}.cache`))
}

/** Runs the compiled oclif bundle and registers its exports as @oclif/core (the build calls it to make the cache). */
export function registerOclifBundle(bundle: CompiledBundle): typeof import('@oclif/core') {
  const main = createRequire(import.meta.url).resolve('@oclif/core')
  const exports = bundle.evaluate()
  const module = new Module(main)
  module.filename = main
  module.paths = (Module as unknown as {_nodeModulePaths(dir: string): string[]})._nodeModulePaths(path.dirname(main))
  module.exports = exports
  module.loaded = true
  ;(Module as unknown as {_cache: Record<string, unknown>})._cache[main] = module
  return exports as unknown as typeof import('@oclif/core')
}
