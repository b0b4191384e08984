/**
 * Issue 18 (start-up): `pipelock run` loads a subsystem's code only when its config enables it,
 * and `verify-receipt` does not load the proxy. A preload (test/fixtures/startup/module-trace.mjs)
 * records every ES module the child loads; the assertions are about which modules, never how long
 * anything took. Also pinned: V8's young generation is held at its start-up size while `run`
 * starts (src/cli/v8-flags.ts). `run` is loaded from its bundle (dist/run, built by
 * scripts/bundle-run.mjs): a loaded bundle file stands for the source files esbuild put into it
 * (dist/run/meta.json), so the assertions still name source files. `run`'s oclif-free start is
 * one CommonJS file compiled as a script (dist/run/direct.cjs, src/cli/run-bundle.ts), which the
 * ES module trace does not see: there V8's function coverage tells which of the source files in it
 * ran (esbuild wraps each module reached lazily in a function named by its path; a module outside
 * such a wrapper runs with the bundle).
 */
import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import readline from 'node:readline'
import {describe, it} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {repoPath, vectorPath} from '../helpers/vectors.js'
import {proxiedStatus} from '../../bench/startup.js'
import {startProxy, tempDir, until} from './proxy-harness.js'

const PRELOAD = repoPath('test', 'fixtures', 'startup', 'module-trace.mjs')

/** Source files (repo-relative) of each file of the run bundle and the MCP wrap's (dist/run/mcp), from esbuild's metafiles. */
function bundleInputs(): Map<string, string[]> {
  return new Map([['dist', 'run', 'meta.json'], ['dist', 'run', 'mcp', 'meta.json']].flatMap((file) => {
    const meta = JSON.parse(readFileSync(repoPath(...file), 'utf8')) as {outputs: Record<string, {inputs: Record<string, unknown>}>}
    return Object.entries(meta.outputs).map(([out, o]): [string, string[]] => [pathToFileURL(repoPath(out)).href, Object.keys(o.inputs)])
  }))
}

const DIRECT = repoPath('dist', 'run', 'direct.cjs')

/** A script in V8's coverage: its URL (or path) and its functions' counts. */
interface CoveredScript {
  url: string
  functions: {functionName: string; ranges: {count: number}[]}[]
}

/** Every script of V8's coverage files in `dir` (written on SIGUSR2 or at exit), read once. */
function coveredScripts(dir: string): CoveredScript[] {
  return (existsSync(dir) ? readdirSync(dir) : []).flatMap((f) => (JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {result: CoveredScript[]}).result)
}

/**
 * The source files (repo-relative) of dist/run/direct.cjs that ran, from V8's coverage
 * (`covered`); empty when the bundle was not compiled.
 */
function directRan(covered: CoveredScript[]): string[] {
  const counts = new Map<string, number>()
  let seen = false
  for (const script of covered.filter((r) => r.url === DIRECT || r.url === pathToFileURL(DIRECT).href)) {
    seen = true
    for (const fn of script.functions) counts.set(fn.functionName, Math.max(counts.get(fn.functionName) ?? 0, fn.ranges[0]!.count))
  }
  if (!seen) return []
  const meta = JSON.parse(readFileSync(repoPath('dist', 'run', 'direct.meta.json'), 'utf8')) as {outputs: Record<string, {inputs: Record<string, unknown>}>}
  const inputs = Object.keys(meta.outputs['dist/run/direct.cjs']!.inputs)
  // The coverage must name esbuild's wrappers (else every file would count as run).
  assert.ok(inputs.some((i) => counts.get(i) === 0), 'lazily wrapped modules found in the coverage')
  return inputs.filter((i) => (counts.get(i) ?? 1) > 0)
}

/**
 * The command scripts (dist/run/…/X.cjs, src/cli/script-modules.ts) a child compiled, from V8's
 * coverage (`covered`), each as the URL of the bundle file it was made from (X.js, the name
 * esbuild's metafile gives it).
 */
function scriptsLoaded(covered: CoveredScript[]): string[] {
  const own = new Set([DIRECT, repoPath('dist', 'run', 'oclif.cjs')])
  const root = repoPath('dist', 'run') + path.sep
  const urls = new Set<string>()
  for (const {url} of covered) {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url
    if (file.startsWith(root) && file.endsWith('.cjs') && !own.has(file)) urls.add(pathToFileURL(file.replace(/\.cjs$/, '.js')).href)
  }
  return [...urls]
}

/**
 * The NODE_OPTIONS and trace file for a traced child. `modules()`: the ES modules it loaded and
 * the command scripts it compiled, each run-bundle file followed by the source files in it, then
 * dist/run/direct.cjs and the source files of it that ran if it was compiled; `cjs()`: the CommonJS files it had loaded when it got
 * SIGUSR2; `builtins()`: Node's module load list then; `beforeFirstFlag()`: Node's module load
 * list when the process first called `v8.setFlagsFromString`.
 */
function traced(): {env: NodeJS.ProcessEnv; modules: () => string[]; cjs: () => string[]; builtins: () => string[]; beforeFirstFlag: () => string[]; file: string} {
  const dir = tempDir('pipelock-trace-')
  const file = path.join(dir, 'modules.txt')
  const coverage = path.join(dir, 'coverage')
  const lines = (f: string): string[] => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter((l) => l !== '') : [])
  return {
    file,
    env: {NODE_OPTIONS: `--import=${JSON.stringify(PRELOAD)}`, MODULE_TRACE_FILE: file, NODE_V8_COVERAGE: coverage},
    modules: () => {
      const inputs = bundleInputs()
      const covered = coveredScripts(coverage)
      const ran = directRan(covered)
      return [
        ...[...lines(file), ...scriptsLoaded(covered)].flatMap((url) => [url, ...(inputs.get(url) ?? []).map((i) => pathToFileURL(repoPath(i)).href)]),
        ...(ran.length === 0 ? [] : [pathToFileURL(DIRECT).href, ...ran.map((i) => pathToFileURL(repoPath(i)).href)]),
      ]
    },
    cjs: () => lines(file + '.cjs.txt'),
    builtins: () => lines(file + '.builtins.txt'),
    beforeFirstFlag: () => lines(file + '.first-flag.txt'),
  }
}

/**
 * Node's module load list of a traced node that did what bin/run.js does for `run` before it sets
 * its V8 flags (src/cli/run-bundle.ts): every built-in loaded by then is compiled from the code
 * cache inside the node binary.
 */
function loadedBeforeFlags(): Set<string> {
  const t = traced()
  const url = (...p: string[]): string => JSON.stringify(pathToFileURL(repoPath(...p)).href)
  const script = [
    `const b = await import(${url('dist', 'src', 'cli', 'run-bundle.js')})`,
    `b.preloadRunBuiltins()`,
    `b.compileBundle(${JSON.stringify(DIRECT)}, ${JSON.stringify(DIRECT + '.cache')})`,
    `await import(${url('dist', 'src', 'cli', 'v8-flags.js')})`,
    `console.log(process.moduleLoadList.join('\\n'))`,
  ].join('\n')
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {env: {...process.env, ...t.env}, encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  return new Set(r.stdout.split('\n').filter((l) => l !== ''))
}

/** Module URL fragments `run` must not load unless configured. */
const WEBSOCKET = ['/node_modules/ws/', '/dist/src/plugins/proxy/websocket/']
/** undici's index (fetch, WebSocket, caches, mocks): pipelock takes undici's classes from src/plugins/dispatch. */
const UNDICI_INDEX = [
  '/node_modules/undici/index.js',
  '/node_modules/undici/lib/web/fetch/index.js',
  '/node_modules/undici/lib/web/websocket/',
  '/node_modules/undici/lib/mock/',
  '/node_modules/undici/lib/cache/',
]
const NEVER_IN_RUN = [
  ...UNDICI_INDEX,
  '/dist/src/plugins/learn/', // the compiler, shadow, ratify
  '/dist/src/plugins/mcp-proxy/', // MCP transports (only with --mcp-listen)
  '/dist/src/plugins/mcp/',
  '/dist/src/plugins/audit/', // evidence-set verification
  '/dist/src/plugins/admin-client/',
  '/dist/src/plugins/deploy/',
]

/** SIGUSR2 to a traced child, and its snapshot (module-trace.mjs) written. */
async function snapshot(proc: ChildProcess, file: string): Promise<void> {
  proc.kill('SIGUSR2')
  assert.ok(await until(async () => existsSync(file + '.heap.json')), 'heap statistics written')
}

function loadedAny(modules: readonly string[], fragments: readonly string[]): string[] {
  return modules.filter((m) => fragments.some((f) => m.includes(f)))
}

describe('start-up loads only what the config uses (issue 18)', {timeout: 120_000}, () => {
  it('run --preset balanced: no WebSocket relay, compiler, MCP or audit tools; young generation held', async () => {
    const t = traced()
    const proxy = await startProxy(null, {args: ['--preset', 'balanced'], env: t.env})
    try {
      // One request through it (refused: the preset blocks loopback), then the trace's snapshot.
      assert.equal(await proxiedStatus(proxy.port, 'http://127.0.0.1:9/'), 403)
      await snapshot(proxy.proc, t.file)
      const modules = t.modules()
      // The trace works: the proxy itself is there, from the bundle.
      assert.ok(modules.some((m) => m.endsWith('/dist/src/plugins/proxy/server.js')), modules.join('\n'))
      // Started without oclif (src/cli/run-direct.ts): the bundle's direct entry, not the command class.
      assert.ok(modules.some((m) => m.endsWith('/dist/run/direct.cjs')), 'run started from dist/run/direct.cjs')
      assert.ok(!modules.some((m) => m.endsWith('/dist/run/run.js')), 'the oclif command class is not loaded')
      // Nothing of the bundle is loaded a second time from dist/src (two copies of a module would
      // mean two error classes, two registries): only bin/run.js's own three helpers come from there.
      const fromSrc = readFileSync(t.file, 'utf8').split('\n').filter((u) => u.startsWith(pathToFileURL(repoPath('dist', 'src')).href + '/'))
      assert.deepEqual(fromSrc.map((u) => u.slice(u.indexOf('/dist/src/'))).sort(), ['/dist/src/cli/run-bundle.js', '/dist/src/cli/v8-flags.js'])
      assert.deepEqual(loadedAny(modules, [...WEBSOCKET, ...NEVER_IN_RUN]), [])
      // CommonJS: no oclif at all, and not undici's index; re2 is there (the trace works).
      const cjs = t.cjs()
      assert.ok(cjs.some((m) => m.includes('/node_modules/re2/')), cjs.join('\n'))
      assert.deepEqual(loadedAny(cjs, ['/node_modules/@oclif/', '/node_modules/semver/', ...NEVER_IN_RUN]), [])
      // Node's built-ins: no HTTP/2 (undici's h2 client is required on first use only), and every
      // built-in the start loaded was loaded before bin/run.js set its V8 flags (which make
      // node's own code cache unusable): src/cli/run-bundle.ts RUN_BUILTINS.
      const builtins = t.builtins().filter((m) => m.startsWith('NativeModule '))
      assert.ok(builtins.includes('NativeModule net'), builtins.join('\n'))
      assert.deepEqual(builtins.filter((m) => m.includes('http2')), [])
      const before = loadedBeforeFlags()
      assert.deepEqual(builtins.filter((m) => !before.has(m)), [], 'built-ins loaded after the V8 flags were set')
      // V8's young generation stayed at its start-up size (2 × 1 MiB semi-spaces here; V8's
      // default sizing grows it to 2 × 16 MiB during this start-up).
      const spaces = JSON.parse(readFileSync(t.file + '.heap.json', 'utf8')) as Record<string, number>
      assert.ok(spaces.new_space! <= 8 * 1024 * 1024, `new_space ${spaces.new_space}`)
      // Listening: the compilers deferred while starting are back (a hot function is TurboFanned).
      assert.notEqual(spaces.optimization_status! & (1 << 6), 0, `optimization status ${spaces.optimization_status!.toString(2)}`)
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
  })

  it('run with websocket_proxy.enabled loads the relay (test/e2e/proxy-websocket*.test.ts drive it)', async () => {
    const t = traced()
    const proxy = await startProxy(['websocket_proxy:', '  enabled: true'].join('\n') + '\n', {env: t.env})
    try {
      await snapshot(proxy.proc, t.file)
      const modules = t.modules()
      for (const f of WEBSOCKET) assert.ok(modules.some((m) => m.includes(f)), `${f} loaded`)
      assert.deepEqual(loadedAny(modules, NEVER_IN_RUN), [])
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
  })

  it('verify-receipt does not load the proxy, the scanner or the config schema', () => {
    const t = traced()
    const r = runCli(['verify-receipt', 'valid-single.json', '--key', '4655a7e605c12ebb00a46037881c33c5bca5eb74b45a02e8e7261a7ff5a21678'], {cwd: vectorPath('receipts'), env: t.env})
    assert.equal(r.status, 0, r.stderr)
    const modules = t.modules()
    assert.ok(modules.some((m) => m.includes('/dist/src/plugins/receipts/')), modules.join('\n'))
    assert.deepEqual(loadedAny(modules, ['/dist/src/plugins/proxy/', '/dist/src/plugins/scanner/', '/dist/src/plugins/config/', '/node_modules/undici/', '/node_modules/zod/', ...NEVER_IN_RUN.filter((f) => !f.includes('/audit/'))]), [])
  })

  it('an admin command (ask list) given the URL and token: undici\'s Agent without undici\'s index, no config loader', () => {
    const t = traced()
    // Port 1: nothing listens, so the command loads and uses its client and fails to connect.
    const r = runCli(['ask', 'list', '--api-url', '127.0.0.1:1', '--api-token', 'x'], {env: t.env})
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /cannot reach the admin API at http:\/\/127\.0\.0\.1:1/)
    const modules = t.modules()
    assert.ok(modules.some((m) => m.includes('/node_modules/undici/lib/dispatcher/agent.js')), modules.join('\n'))
    assert.deepEqual(loadedAny(modules, UNDICI_INDEX), [])
    // The config file is read only for a value the flags and environment leave unset.
    assert.deepEqual(loadedAny(modules, ['/dist/src/plugins/config/load.js', '/dist/src/plugins/config/schema', '/node_modules/yaml/']), [])
  })

  it('mcp proxy -- CMD (stdio wrap): its own bundle, no oclif, only the stdio path; scan pool threads only for a large message; young generation held', async () => {
    const t = traced()
    const p = spawn(process.execPath, [repoPath('bin', 'run.js'), 'mcp', 'proxy', '--', process.execPath, repoPath('test/mcp/fixtures/raw-server.mjs'), 'echo'], {
      cwd: repoPath(),
      env: {...process.env, ...t.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)))
    const lines = readline.createInterface({input: p.stdout!})
    const call = (id: number, text: string): Promise<string> => {
      const answered = new Promise<string>((resolve) => lines.once('line', resolve))
      p.stdin!.write(JSON.stringify({jsonrpc: '2.0', id, method: 'tools/call', params: {name: 'echo', arguments: {text}}}) + '\n')
      return answered
    }
    try {
    assert.match(await call(1, 'hello'), /"id":1,"result"/)
    const modules = t.modules()
    // Issue 12 (RSS per wrap): the wrap starts from dist/run/mcp, without oclif.
    assert.ok(modules.some((m) => m.endsWith('/dist/run/mcp/mcp-proxy.js')), modules.join('\n'))
    assert.ok(modules.some((m) => m.endsWith('/dist/src/plugins/mcp-proxy/stdio-wrap.js')), modules.join('\n'))
    assert.deepEqual(loadedAny(modules, [
      '/node_modules/@oclif/', '/node_modules/ws/', '/node_modules/undici/', '/node_modules/chokidar/',
      '/dist/src/plugins/mcp-proxy/ws-bridge.js', '/dist/src/plugins/mcp-proxy/http-bridge.js', '/dist/src/plugins/mcp-proxy/http-listener.js',
      '/dist/src/plugins/mcp-proxy/evidence.js', '/dist/src/plugins/mcp-proxy/admin-api.js', '/dist/src/plugins/mcp-proxy/integrity-check.js',
      '/dist/src/plugins/proxy/server.js', '/dist/src/plugins/proxy/websocket/', '/dist/src/plugins/dispatch/',
      '/dist/src/plugins/receipts/', '/dist/src/plugins/recorder/', '/dist/src/plugins/store/', '/dist/src/plugins/gate/', '/dist/src/plugins/contracts/',
      '/dist/src/plugins/capture/', '/dist/src/plugins/emit/emitter.js', '/dist/src/plugins/emit/open.js', '/dist/src/plugins/tls/', '/dist/src/plugins/learn/', '/dist/src/plugins/audit/',
      '/dist/src/plugins/mcp-proxy/scan-worker.js', '/dist/run/workers/',
    ]), [])
    // Nothing of the wrap's bundle is loaded a second time from dist/src: only bin/run.js's helpers.
    const fromSrc = (): string[] => readFileSync(t.file, 'utf8').split('\n').filter((u) => u.startsWith(pathToFileURL(repoPath('dist', 'src')).href + '/')).map((u) => u.slice(u.indexOf('/dist/src/'))).sort()
    const binHelpers = ['/dist/src/cli/mcp-proxy-args.js', '/dist/src/cli/run-bundle.js', '/dist/src/cli/v8-flags.js']
    assert.deepEqual(fromSrc(), binHelpers)
    // Without a config file no chunk holding the YAML reader loads, and of zod's message locales
    // only English is in the bundle (issue 12, scripts/bundle-run.mjs).
    const meta = JSON.parse(readFileSync(repoPath('dist/run/mcp/meta.json'), 'utf8')) as {outputs: Record<string, {inputs: Record<string, unknown>}>}
    const chunksWith = (f: (input: string) => boolean): string[] => Object.entries(meta.outputs).filter(([, o]) => Object.keys(o.inputs).some(f)).map(([k]) => k)
    const yamlChunks = chunksWith((i) => i.includes('node_modules/yaml/'))
    assert.ok(yamlChunks.length > 0, 'the YAML reader is in a chunk of its own')
    assert.deepEqual(modules.filter((m) => yamlChunks.some((c) => m.endsWith(`/${c}`))), [])
    // Nor zod and the config schemas: the defaults resolve without them (config/resolve-defaults.ts).
    const zodChunks = chunksWith((i) => i.includes('node_modules/zod/') || i.endsWith('config/schema.js'))
    assert.ok(zodChunks.length > 0, 'zod is bundled, for a config file')
    assert.deepEqual(modules.filter((m) => zodChunks.some((c) => m.endsWith(`/${c}`))), [])
    assert.ok(chunksWith((i) => i.endsWith('zod/v4/locales/en.js')).length > 0, 'English is bundled')
    assert.deepEqual(chunksWith((i) => /zod\/v4\/locales\/(?!en\.js$|index\.js$)/.test(i)), [])
    p.kill('SIGUSR2')
    assert.ok(await until(async () => existsSync(t.file + '.heap.json')), 'heap statistics written')
    const spaces = JSON.parse(readFileSync(t.file + '.heap.json', 'utf8')) as Record<string, number>
    assert.ok(spaces.new_space! <= 8 * 1024 * 1024, `new_space ${spaces.new_space}`)
    assert.deepEqual(loadedAny(t.cjs(), ['/node_modules/@oclif/', '/node_modules/undici/']), [])
    // Every built-in the wrap loaded by its first call was loaded before bin/run.js set its first
    // V8 flag (the young-generation hold: node's own code cache is unusable for a built-in loaded
    // after it; src/cli/run-bundle.ts MCP_WRAP_BUILTINS). Left: internals no public built-in loads
    // up front: the ES module loader's import.meta and CommonJS lexer (the bundle is ES modules,
    // re2 is CommonJS), and node:net's BlockList, which the ES module namespace of node:net reads.
    const wrapBuiltins = t.builtins().filter((m) => m.startsWith('NativeModule '))
    assert.ok(wrapBuiltins.includes('NativeModule child_process'), wrapBuiltins.join('\n'))
    const beforeFlag = new Set(t.beforeFirstFlag())
    assert.ok(beforeFlag.has('NativeModule child_process'), [...beforeFlag].join('\n'))
    const loaderInternals = ['blocklist', 'socketaddress', 'deps/cjs-module-lexer/lexer', 'modules/esm/initialize_import_meta'].map((m) => `NativeModule internal/${m}`)
    assert.deepEqual(wrapBuiltins.filter((m) => !beforeFlag.has(m) && !loaderInternals.includes(m)), [], 'built-ins loaded after the first V8 flag was set')
    // The scan pool's worker thread starts with the first message over 64 KiB, not before, from
    // its bundle (src/plugins/workers/bundled.ts): nothing of it from dist/src.
    assert.match(await call(2, 'the quick brown fox jumps over the lazy dog '.repeat(2000)), /"id":2,"result"/)
    assert.ok(await until(async () => t.modules().some((m) => m.endsWith('/dist/run/workers/plugins/mcp-proxy/scan-worker.js'))), 'scan worker started')
    assert.deepEqual(fromSrc(), binHelpers)
    p.stdin!.end()
    assert.equal(await exited, 0)
    } finally {
      if (p.exitCode === null) p.kill()
    }
  })

  it('mcp proxy --help and the other forms the fast path leaves alone go through oclif', () => {
    const t = traced()
    const r = runCli(['mcp', 'proxy', '--help'], {env: t.env})
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /Firewall an MCP server/)
    assert.ok(t.modules().some((m) => m.includes('/node_modules/@oclif/core/')), 'oclif loaded')
    assert.ok(!t.modules().some((m) => m.endsWith('/dist/run/mcp/mcp-proxy.js')), 'the wrap bundle not loaded')
  })
})
