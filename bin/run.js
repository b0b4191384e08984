#!/usr/bin/env node
// `pipelock --version` alone is answered before oclif loads (its ≈ 160 modules were most of the
// command's start-up, bench: startup) with oclif's own text (`config.userAgent`, pinned by a test).
// On WSL oclif names the platform `wsl`: there the question goes to oclif.
import {release} from 'node:os'
import {fileURLToPath} from 'node:url'

// The common `mcp proxy [flags] -- COMMAND` line starts from its bundle without oclif (bench: mcp,
// RSS per wrap); every other form of it, --help included, goes through oclif (src/cli/mcp-proxy-args.ts).
const mcpWrap = process.argv[2] === 'mcp' && process.argv[3] === 'proxy'
  ? (await import('../dist/src/cli/mcp-proxy-args.js')).fastMcpProxyArgs(process.argv.slice(4))
  : null

if (process.argv.length === 3 && process.argv[2] === '--version' && !release().toLowerCase().includes('microsoft')) {
  const pkg = await ownPackage()
  const arch = process.arch === 'ia32' ? 'x86' : process.arch
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${arch} node-${process.version}\n`)
} else if (mcpWrap !== null) {
  // Node's built-ins the wrap uses are loaded before the young-generation flag, which would make
  // node's own code cache unusable for them (src/cli/run-bundle.ts, as for `run` below). Every V8
  // flag pipelock sets, and what each buys, is in src/cli/v8-flags.ts.
  const {preloadBuiltins, MCP_WRAP_BUILTINS} = await import('../dist/src/cli/run-bundle.js')
  preloadBuiltins(MCP_WRAP_BUILTINS)
  const {holdYoungGeneration} = await import('../dist/src/cli/v8-flags.js')
  holdYoungGeneration(process.execArgv, process.env.NODE_OPTIONS)
  await (await import('../dist/run/mcp/mcp-proxy.js')).mcpProxyMain(mcpWrap, (await ownPackage()).version)
} else {
  const [cmd, sub] = process.argv.slice(2)
  // `run`'s oclif-free start is one CommonJS bundle compiled with V8's code cache
  // (src/cli/run-bundle.ts, bench: startup). Both the cache and the code cache built into node for its
  // own library are made under V8's default flags, so the built-ins `run` uses are loaded and the
  // bundle compiled before the start-up flags below are set.
  let bundle
  if (cmd === 'run') {
    const {compileBundle, preloadRunBuiltins} = await import('../dist/src/cli/run-bundle.js')
    preloadRunBuiltins()
    const file = fileURLToPath(new URL('../dist/run/direct.cjs', import.meta.url))
    bundle = compileBundle(file, file + '.cache')
  }
  // Start-up's V8 flags (src/cli/v8-flags.ts, one comment per flag): long-running commands start
  // with V8's young generation held at its initial size, before oclif loads, as loading is what
  // grows it; `run` also starts on V8's interpreter alone (the compilers resume once it listens)
  // with a larger WebAssembly tiering budget.
  if (cmd === 'run' || (cmd === 'mcp' && sub === 'proxy')) {
    const {holdYoungGeneration, deferCompilers, raiseWasmTieringBudget} = await import('../dist/src/cli/v8-flags.js')
    holdYoungGeneration(process.execArgv, process.env.NODE_OPTIONS)
    if (cmd === 'run') {
      deferCompilers(process.execArgv, process.env.NODE_OPTIONS)
      raiseWasmTieringBudget(process.execArgv, process.env.NODE_OPTIONS)
    }
  }
  // `run` with plain flags starts without oclif (src/cli/run-direct.ts, bench: startup); any other
  // argument list (--help, an error, an agent command) goes to oclif below, unchanged.
  const direct = bundle === undefined ? undefined : bundle.evaluate().runDirect(process.argv.slice(3))
  if (direct !== undefined) await direct
  else await oclif()
}

/** pipelock's own package.json (name, version), for the answers given without oclif. */
async function ownPackage() {
  const {readFileSync} = await import('node:fs')
  return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
}

async function oclif() {
  // oclif's index checks the Node version against its own `engines` with semver (≈ 50 files
  // loaded for one comparison, bench: startup); pipelock's own `engines` (>= 20.18.1) is stricter than
  // oclif's (>= 18), so the check can never warn where pipelock runs. Skipped for this import only.
  const engineWarning = process.env.OCLIF_DISABLE_ENGINE_WARNING
  process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
  // From dist/run/oclif.cjs with V8's code cache, registered as @oclif/core (src/cli/oclif-bundle.ts).
  const {Config, execute} = await (await import('../dist/src/cli/oclif-bundle.js')).loadOclif()
  if (engineWarning === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING
  else process.env.OCLIF_DISABLE_ENGINE_WARNING = engineWarning
  const {hoistTopicFlags} = await import('../dist/src/cli/argv.js')
  // Flags given before a subcommand (`session --api-url X list`) are moved after it.
  const config = await Config.load(import.meta.url)
  const args = hoistTopicFlags(process.argv.slice(2), config.commands)
  // oclif's own commands (help, version, autocomplete) report a usage error as pipelock's do.
  const first = args.find((a) => !a.startsWith('-'))
  const found = first === undefined ? undefined : config.findCommand(first)
  if (found !== undefined && found.pluginName !== config.name) await (await import('../dist/src/cli/oclif-failure.js')).guardPluginCommand(first, found)
  await execute({args, loadOptions: config})
}
