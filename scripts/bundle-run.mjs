#!/usr/bin/env node
// Bundles `pipelock run` (part of `npm run build`, after tsc; bench: startup). Node 20 loads an
// ES module graph file by file: resolution, a stat and a read per file, a compile per module.
// `run` loaded ≈ 420 ES modules and ≈ 230 CommonJS files, and that per-module work was about
// half of its start-up CPU (bench: startup). esbuild joins
// the command and everything it imports into a few files under dist/run/; modules reached only
// through a dynamic `import()` (the WebSocket relay, the MCP listener) stay in chunks of their own
// that load when the config asks for them, exactly as before.
//
// Kept outside the bundle: @oclif/core (bin/run.js and the command must share one copy: the
// command class extends oclif's, and errors cross between them) and re2 (a native addon).
// `import.meta.url` in a bundled source file is rewritten to that file's own URL in dist/src, so
// `new URL('./worker.js', import.meta.url)` still names the worker beside it.
//
// The manifest (scripts/gen-manifest.mjs) points oclif's `run` at dist/run/run.js and every other
// command at dist/run/commands/; the help class, the hooks and every test importing dist/src use
// tsc's output as before. dist/run/meta.json is esbuild's metafile: which source files went into
// which chunk (test/e2e/startup-laziness.test.ts reads it to tell what a command loaded).
//
// `run` without oclif (src/cli/run-direct.ts, what bin/run.js tries first) is built differently:
// ONE CommonJS file, dist/run/direct.cjs, that bin/run.js compiles as a `vm.Script` with V8's code
// cache (src/cli/run-bundle.ts), which Node 20 offers for scripts but not for ES modules. Modules
// behind a dynamic `import()` are in the same file but run only when imported (esbuild's lazy
// module wrappers), so the WebSocket relay and the MCP listener still cost nothing unless the
// config asks for them (test/e2e/startup-laziness.test.ts tells which ran from V8's coverage).
// The cache, dist/run/direct.cjs.cache, is made by a node without flags right after the bundle.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {build, transformSync} from 'esbuild'
import {directImports} from './bundle-direct-imports.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const outdir = path.join(root, 'dist', 'run')
const srcDir = path.join(root, 'dist', 'src') + path.sep
/** run-bundle.js's URL, as a string literal for the scripts that make the code caches. */
const BUNDLE_LOADER = JSON.stringify(new URL('../dist/src/cli/run-bundle.js', import.meta.url).href)

/**
 * `import.meta.url` of a bundled dist/src file → that file's URL, computed from the chunk's (in
 * `outdir`; `base` is the expression for the chunk's own URL). `transform(text, file)`, when
 * given, rewrites every dist/src file first.
 */
const ownUrl = (outdir, transform, base = 'import.meta.url') => ({
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({filter: /\.js$/}, (args) => {
      if (!args.path.startsWith(srcDir)) return undefined
      const read = readFileSync(args.path, 'utf8')
      const text = transform === undefined ? read : transform(read, args.path)
      if (text === read && !text.includes('import.meta.url')) return undefined
      const rel = path.relative(outdir, args.path).split(path.sep).join('/')
      return {contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, ${base}).href`), loader: 'js'}
    })
  },
})

/**
 * Non-ASCII characters of a source file as `\\uXXXX` escapes. esbuild's `charset: 'ascii'` escapes
 * strings and identifiers but leaves regular-expression literals as written; one `µ` in a regex
 * would make V8 hold the whole single-file bundle as two-byte text, twice its size. In a regex, a
 * string, an identifier or a comment the escape means the same character.
 */
const asciiSource = (text) => text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/**
 * undici's client requires its HTTP/2 module, and with it `node:http2` (≈ 8 ms of start-up), at
 * load; it is called only for a connection that negotiated h2, which the proxy's upstream
 * connections (HTTP/1.1 only: `allowH2` is never set) never do. The bundle requires it on first
 * use instead. The build fails if undici's line changed, so an upgrade is looked at.
 */
const lazyUndiciH2 = {
  name: 'lazy-undici-h2',
  setup(b) {
    b.onLoad({filter: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client\.js$/}, (args) => {
      const text = readFileSync(args.path, 'utf8')
      const eager = "const connectH2 = require('./client-h2.js')\n"
      if (text.split(eager).length !== 2) throw new Error(`${args.path}: the line "${eager.trim()}" changed; update lazyUndiciH2 in scripts/bundle-run.mjs`)
      return {contents: text.replace(eager, "let clientH2\nconst connectH2 = (client, socket) => (clientH2 ??= require('./client-h2.js'))(client, socket)\n"), loader: 'js'}
    })
  },
}

/** Fails the build when a bundled file uses `__dirname` (it would name dist/run, not the package's own directory). */
function checkOutputs(metafile) {
  for (const file of Object.keys(metafile.outputs)) {
    if (file.endsWith('.map')) continue
    const text = readFileSync(path.join(root, file), 'utf8')
    if (/(?<!typeof )\b__dirname\b/.test(text)) throw new Error(`${file}: a bundled module uses __dirname; keep its package external`)
  }
}

/**
 * Pipelock's own modules have no import-time side effects (ARCHITECTURE.md), so a plugin's
 * index.ts re-exporting many files must not drag the unused ones (and the CommonJS packages
 * they require) into a bundle: the MCP wrap imports a few settings helpers from the proxy
 * plugin's index and needs none of its server, upstream client or recorder (bench: mcp). This marks
 * every dist/src file side-effect-free for esbuild, as `"sideEffects": false` does for a package.
 */
const pureSources = {
  name: 'pure-sources',
  setup(b) {
    b.onResolve({filter: /^\.\.?\//}, async (args) => {
      if (args.pluginData?.pure === true || !args.importer.startsWith(srcDir)) return undefined
      const r = await b.resolve(args.path, {kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: {pure: true}})
      if (r.errors.length > 0 || !r.path.startsWith(srcDir)) return r.errors.length > 0 ? {errors: r.errors} : {path: r.path, external: r.external}
      return {path: r.path, sideEffects: false}
    })
  },
}

/**
 * zod's namespace object (`import {z} from 'zod'`) re-exports its 40-odd message locales, so a
 * bundle holds all of them (≈ 305 KB, a third of the MCP wrap's start-up chunk: source text kept
 * in V8's heap and parsed at start, bench: mcp) though zod configures English itself and pipelock
 * never selects another. This points zod's locale index at English alone: `z.locales.en` stays,
 * the others are absent from the bundle.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({filter: /^\.\.\/locales\/index\.js$/}, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined
      return {path: path.join(args.resolveDir, '..', 'locales', 'index.js'), namespace: 'zod-english-only'}
    })
    b.onLoad({filter: /.*/, namespace: 'zod-english-only'}, (args) => ({
      contents: "export {default as en} from './en.js'",
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }))
  },
}

/**
 * The opening of every chunk of an ES module build here: CommonJS dependencies (undici, yaml) call
 * require() for Node's built-ins. A script made from a chunk (scriptModules) drops it.
 */
const ESM_BANNER = "import {createRequire as __pipelockRequire} from 'node:module'; const require = __pipelockRequire(import.meta.url);"

/** What a dynamic `import(X)` becomes in esbuild's CommonJS output; the script calls `__pipelockImport(X)` instead. */
const CONVERTED_IMPORT = 'Promise.resolve().then(()=>__toESM(require('

/** What every bundle here shares: Node 20, oclif and the native re2 module left outside, a metafile. */
const COMMON = {bundle: true, platform: 'node', target: 'node20', external: ['@oclif/core', 're2'], metafile: true, logLevel: 'warning'}

/** A single-file bundle must be ASCII: one other character and V8 holds the whole text as two-byte, twice its size. */
function assertAscii(file) {
  if (/[^\x00-\x7f]/.test(readFileSync(file, 'latin1'))) throw new Error(`${file}: not ASCII (V8 would hold it as two-byte text)`)
}

/** Checks a build's outputs and writes its metafile to `metaFile`. */
function finish(result, metaFile) {
  // CommonJS code bundled into an ES module has no __dirname: fail the build rather than at run time.
  checkOutputs(result.metafile)
  writeFileSync(metaFile, JSON.stringify(result.metafile))
}

/**
 * Bundles `entryPoints` into `dir` with esbuild's metafile beside them (dir/meta.json); `o.transform`
 * rewrites the dist/src sources, `o.plugins` and `o.options` add to the build. The sources' non-ASCII
 * characters are escaped (`asciiSource`) and every chunk is checked to be ASCII: one `‘` in a
 * regular expression had V8 hold the stdio wrap's entry chunk (292 KB) as two-byte text.
 */
async function bundle(entryPoints, dir, o = {}) {
  const result = await build({
    ...COMMON,
    entryPoints,
    outdir: dir,
    splitting: true,
    format: 'esm',
    banner: {js: ESM_BANNER},
    plugins: [ownUrl(dir, (text, file) => asciiSource(o.transform === undefined ? text : o.transform(text, file))), ...(o.plugins ?? [])],
    // Licence comments go to a .LEGAL.txt beside each chunk, as for the single-file bundles (one held `ä`).
    legalComments: 'external',
    ...o.options,
  })
  finish(result, path.join(dir, 'meta.json'))
  for (const file of Object.keys(result.metafile.outputs)) if (file.endsWith('.js')) assertAscii(path.resolve(root, file))
  console.log(`${path.relative(root, dir)}: ${Object.keys(result.metafile.outputs).length} files`)
  return result.metafile
}

rmSync(outdir, {recursive: true, force: true})
// The oclif command classes (the manifest points oclif here): run.js, and every other command at
// commands/<topic>/<name>.js, in one build, so a module two commands import is one shared chunk.
// A command and what it imports load as a few files instead of dozens or hundreds of ES modules:
// `learn compile` imported 485–508 ms of modules from tsc's output and 209–244 from its bundle,
// `verify-receipt` 198–245 and 141–151 (bench: startup). A command loads only the chunks its
// own imports reach. As for the stdio wrap below, imports through a plugin's index.ts are pointed
// at the files that define the names (scripts/bundle-direct-imports.mjs) and the sources are
// side-effect-free, so a command's chunks hold what its code imports, not every file its plugins'
// index files re-export; zod keeps its English messages only. What `generate config` loads fell
// from 3.98 MB of chunks to 0.68, `learn ratify` from 3.32 to 1.04, `check` from 1.54 to 0.66;
// CPU per start, old and new interleaved: 573 → 378 ms, 635 → 483, 606 → 500.
const commandBarrels = new Map()
const commandsMeta = await bundle(commandEntries(), outdir, {
  transform: (text, file) => directImports(text, file, commandBarrels),
  plugins: [lazyUndiciH2, pureSources, zodEnglishOnly],
  options: {minifyWhitespace: true},
})
scriptModules(commandsMeta)
await bundleDirect()
await bundleOclif()
// The stdio wrap's oclif-free start (bin/run.js, src/cli/mcp-proxy-run.ts; bench: mcp), a build of
// its own (inside dist/run, so it ships with it): its start-up chunks hold only what a stdio wrap
// runs (direct imports past the plugins' index files, scripts/bundle-direct-imports.mjs; sources
// side-effect-free), and the lazily imported bridges, listener and evidence steps stay in chunks of
// their own. Whitespace is minified: that also drops the comments, whose few non-ASCII characters
// (§, —, →) made V8 hold a whole chunk's source as two-byte text, twice its size.
const barrels = new Map()
await bundle({'mcp-proxy': path.join(root, 'dist', 'src', 'cli', 'mcp-proxy-run.js')}, path.join(outdir, 'mcp'), {
  transform: (text, file) => directImports(text, file, barrels),
  plugins: [pureSources, zodEnglishOnly],
  options: {minifyWhitespace: true},
})

// The worker threads' modules (src/plugins/workers/bundled.ts): each worker module and what it
// imports in one build of its own, dist/run/workers/<its path below dist/src>, so a thread loads a
// few files instead of an ES module graph of hundreds. The body-scan worker's import fell from
// ≈ 400 ms (≈ 500 ms of CPU) to ≈ 90, and with it the wait of the first large body a fresh
// `pipelock run` scans on its pool (≈ 0.7 s before). Direct imports past the plugins' index files
// and side-effect-free sources, as for the commands: a thread loads only what its jobs run.
const workerBarrels = new Map()
await bundle(workerEntries(), path.join(outdir, 'workers'), {
  transform: (text, file) => directImports(text, file, workerBarrels),
  plugins: [lazyUndiciH2, pureSources, zodEnglishOnly],
  options: {minifyWhitespace: true},
})

/**
 * The commands' bundle as CommonJS scripts with V8's code cache (src/cli/script-modules.ts; bench:
 * startup): each output `X.js` of that build becomes `X.cjs`, the same code with its imports as
 * `require` (esbuild's own conversion), and the command entries (`run.js`, `commands/…`, which the
 * manifest names) become two-line ES modules that load their script. The other chunks' `.js` files
 * go: nothing imports them any more. Then `X.cjs.cache` for every script, made by a node without
 * flags that loads every script (each module's top level runs, so the functions module loading
 * compiles are in the caches too).
 */
function scriptModules(metafile) {
  const scripts = []
  for (const [out, o] of Object.entries(metafile.outputs)) {
    if (!out.endsWith('.js')) continue
    const file = path.resolve(root, out)
    const script = file.replace(/\.js$/, '.cjs')
    writeFileSync(script, asScript(readFileSync(file, 'utf8'), file))
    assertAscii(script)
    const rel = path.relative(outdir, file).split(path.sep).join('/')
    if (rel === 'run.js' || rel.startsWith('commands/')) {
      if (o.entryPoint === undefined || !o.exports.includes('default')) throw new Error(`${out}: a command entry without a default export`)
      // dist/run/… to dist/src/…: always a `../` path.
      const loader = path.relative(path.dirname(file), path.join(root, 'dist', 'src', 'cli', 'script-modules.js')).split(path.sep).join('/')
      writeFileSync(file, [
        `import {loadScriptModule} from ${JSON.stringify(loader)}`,
        `export default loadScriptModule(new URL(${JSON.stringify(`./${path.basename(script)}`)}, import.meta.url)).default`,
      ].join('\n') + '\n')
    } else {
      rmSync(file)
    }
    scripts.push(script)
  }
  const loader = JSON.stringify(new URL('../dist/src/cli/script-modules.js', import.meta.url).href)
  const oclifLoader = JSON.stringify(new URL('../dist/src/cli/oclif-bundle.js', import.meta.url).href)
  const train = [
    `import {writeFileSync} from 'node:fs'`,
    `const {loadOclif} = await import(${oclifLoader})`,
    `await loadOclif()`,
    `const {loadScriptModule, loadedScriptModules} = await import(${loader})`,
    `const {bundleCacheContents} = await import(${BUNDLE_LOADER})`,
    `for (const file of ${JSON.stringify(scripts)}) loadScriptModule(file)`,
    `let bytes = 0`,
    `for (const m of loadedScriptModules()) {`,
    `  const data = bundleCacheContents(m.file, m.script)`,
    `  writeFileSync(m.file + '.cache', data)`,
    `  bytes += data.length`,
    `}`,
    `process.stderr.write(String(bytes))`,
  ].join('\n')
  const made = spawnSync(process.execPath, ['--input-type=module', '-e', train], {env: cacheEnv(), cwd: root, encoding: 'utf8', timeout: 120_000})
  // Without caches every script still loads, compiled from source: the build says so and goes on.
  if (made.status !== 0) console.warn(`dist/run: loading the command scripts to make their code caches failed (${made.error ?? made.stderr.trim()}); no caches`)
  else console.log(`dist/run: ${scripts.length} command scripts, code caches ${made.stderr.trim()} bytes`)
}

/**
 * The ES module chunk `text` (`file`) as a script for src/cli/script-modules.ts: the banner off,
 * `import.meta.url` as the wrapper's `__pipelockBundleUrl`, esbuild's conversion to CommonJS (every
 * dynamic `import()` made a `require` in a promise), and those back to an asynchronous load,
 * `__pipelockImport(X)`, which also takes a specifier that is not a file of the bundle (a `file:`
 * URL into dist/src). Fails on what a script cannot stand for: another use of `import.meta`, a
 * converted import whose shape is not esbuild's.
 */
function asScript(text, file) {
  if (!text.startsWith(ESM_BANNER)) throw new Error(`${file}: the chunk banner changed; update ESM_BANNER in scripts/bundle-run.mjs`)
  const body = text.slice(ESM_BANNER.length).replaceAll('import.meta.url', '__pipelockBundleUrl')
  if (body.includes('import.meta')) throw new Error(`${file}: uses import.meta beyond import.meta.url, which a script cannot stand for`)
  const cjs = transformSync(body, {format: 'cjs', platform: 'node', target: 'node20', supported: {'dynamic-import': false}, charset: 'ascii', minifyWhitespace: true, logLevel: 'error'}).code
  let out = ''
  let at = 0
  for (let i = cjs.indexOf(CONVERTED_IMPORT); i >= 0; i = cjs.indexOf(CONVERTED_IMPORT, at)) {
    // The specifier: a string literal or an expression, up to the parenthesis that closes require(.
    let depth = 1
    let j = i + CONVERTED_IMPORT.length
    for (let quote = ''; depth > 0 && j < cjs.length; j++) {
      const c = cjs[j]
      if (quote !== '') {
        if (c === '\\') j++
        else if (c === quote) quote = ''
      } else if (c === '"' || c === "'" || c === '`') quote = c
      else if (c === '(') depth++
      else if (c === ')') depth--
    }
    // j is past require('s closing parenthesis; __toESM( and then( close right after it.
    if (depth !== 0 || cjs.slice(j, j + 2) !== '))') throw new Error(`${file}: a converted import() of an unexpected shape at ${i}`)
    out += `${cjs.slice(at, i)}__pipelockImport(${cjs.slice(i + CONVERTED_IMPORT.length, j - 1)})`
    at = j + 2
  }
  return out + cjs.slice(at)
}

/**
 * The `.js` files below `dir` whose names end with `suffix`, each as [its path below `dir`
 * without `.js`, in `/` form; its full path].
 */
function modulesBelow(dir, suffix) {
  const out = []
  const walk = (d) => {
    for (const name of readdirSync(d, {withFileTypes: true})) {
      const file = path.join(d, name.name)
      if (name.isDirectory()) walk(file)
      else if (name.name.endsWith(suffix)) out.push([path.relative(dir, file).slice(0, -'.js'.length).split(path.sep).join('/'), file])
    }
  }
  walk(dir)
  return out
}

/** esbuild entry points of every worker-thread module below dist/src (a file named `*-worker.js`), keyed by its path there. */
function workerEntries() {
  const src = path.join(root, 'dist', 'src')
  const entries = Object.fromEntries(modulesBelow(src, '-worker.js'))
  if (Object.keys(entries).length === 0) throw new Error(`no worker modules (*-worker.js) under ${src}`)
  return entries
}

/** esbuild entry points of every command: `run`, and `commands/<path below dist/src/commands>` for the others. */
function commandEntries() {
  const commands = path.join(root, 'dist', 'src', 'commands')
  const entries = Object.fromEntries(modulesBelow(commands, '.js').map(([id, file]) => [id === 'run' ? 'run' : `commands/${id}`, file]))
  if (entries.run === undefined) throw new Error(`${commands}/run.js missing`)
  return entries
}

/**
 * direct.cjs: `run` without oclif (src/cli/run-direct.ts; bin/run.js tries it first), one
 * CommonJS file, all ASCII; its metafile (direct.meta.json), a source map without sources
 * (direct.cjs.map, for CPU profiles), and V8's code cache for it.
 */
async function bundleDirect() {
  const file = path.join(outdir, 'direct.cjs')
  const result = await build({
    ...COMMON,
    entryPoints: [path.join(root, 'dist', 'src', 'cli', 'run-direct.js')],
    outfile: file,
    absWorkingDir: root,
    format: 'cjs',
    // `import.meta.url` of a source file: from the bundle's own URL (src/cli/run-bundle.ts passes it).
    plugins: [ownUrl(outdir, asciiSource, '__pipelockBundleUrl'), lazyUndiciH2],
    charset: 'ascii',
    // Whitespace and comments out: less text for V8 to scan and to keep in memory.
    minifyWhitespace: true,
    sourcemap: 'external',
    sourcesContent: false,
    // The packages' license comments (one has a non-ASCII name) go to direct.cjs.LEGAL.txt.
    legalComments: 'external',
  })
  finish(result, path.join(outdir, 'direct.meta.json'))
  assertAscii(file)
  // The cache must be made under Node's default V8 flags (bin/run.js compiles before it sets its
  // own): a node of its own, without NODE_OPTIONS. It starts `pipelock run` from the bundle (no
  // config file: the defaults, loopback listener on a free port, in an empty directory and HOME)
  // and writes the cache once the proxy listens, so it holds the functions the start compiled
  // lazily as well (1.5 MB; made right after compiling it would hold only the eager ones). Should
  // that start fail here, the cache is made without running the bundle, and the build says so.
  const train = [
    `import {writeFileSync} from 'node:fs'`,
    `const {compileBundle, bundleCacheContents} = await import(${BUNDLE_LOADER})`,
    `const b = compileBundle(${JSON.stringify(file)}, '')`,
    `const write = process.stderr.write.bind(process.stderr)`,
    `let err = ''`,
    `process.stderr.write = (chunk) => {`,
    `  err += chunk`,
    `  if (!/Listen: /.test(err)) return true`,
    `  const data = bundleCacheContents(${JSON.stringify(file)}, b.script)`,
    `  writeFileSync(${JSON.stringify(file + '.cache')}, data)`,
    `  write(String(data.length))`,
    `  process.exit(0)`,
    `}`,
    `await b.evaluate().runDirect(['--listen', '127.0.0.1:0'])`,
    `write(err)`,
    `process.exit(1)`,
  ].join('\n')
  makeCodeCache(file, train, 'a start')
}

/** The environment of a node that makes a code cache: Node's default V8 flags (no NODE_OPTIONS), no user settings; HOME `home`. */
function cacheEnv(home = tmpdir()) {
  const env = {...process.env, HOME: home, NO_COLOR: '1', OCLIF_DISABLE_ENGINE_WARNING: '1'}
  for (const k of ['NODE_OPTIONS', 'PIPELOCK_DATA_DIR', 'XDG_DATA_HOME', 'PIPELOCK_CONFIG', 'DEBUG', 'PIPELOCK_DEBUG']) delete env[k]
  return env
}

/**
 * Writes `file`.cache: runs `train` (an ES module script that must write the cache and print its
 * size on stderr; BUNDLE_LOADER names the loader) in a node of its own under Node's default V8
 * flags (no NODE_OPTIONS), in an empty directory and HOME. Should it fail, the cache is made from
 * the compiled bundle without running it, and the build says so (`what` names the training run).
 */
function makeCodeCache(file, train, what) {
  const home = mkdtempSync(path.join(tmpdir(), 'pipelock-cache-'))
  const env = cacheEnv(home)
  let made = spawnSync(process.execPath, ['--input-type=module', '-e', train], {env, cwd: home, encoding: 'utf8', timeout: 60_000})
  rmSync(home, {recursive: true, force: true})
  if (made.status !== 0) {
    console.warn(`${path.relative(root, file)}: ${what} to make the code cache with failed (${made.error ?? made.stderr.trim()}); caching the compiled bundle only`)
    made = spawnSync(process.execPath, ['--input-type=module', '-e', `const {writeBundleCache} = await import(${BUNDLE_LOADER}); process.stderr.write(String(writeBundleCache(${JSON.stringify(file)}, ${JSON.stringify(file + '.cache')})))`], {env, encoding: 'utf8'})
    if (made.status !== 0) throw new Error(`V8 code cache for ${file}: ${made.stderr}`)
  }
  console.log(`${path.relative(root, file)}: ${readFileSync(file).length} bytes, code cache ${made.stderr.trim()} bytes`)
}

/**
 * oclif sorts every plugin's commands by `a.id.localeCompare(b.id)` as it loads the config, at each
 * start of every command. The first `localeCompare` of a process sets up ICU's collator: about
 * 10 ms of CPU here (22 under a profiler), for ids that are lowercase letters, `:` and `-`, which
 * ICU's root collation orders exactly as their code units (`-` before `:` before the letters, a
 * prefix before its extensions; test/unit/cli/oclif-id-order.test.ts holds the two orders equal on
 * every command id). Such ids are compared by code unit; any other id still by `localeCompare`.
 * The build fails if oclif's line changed, so an upgrade is looked at.
 */
function idOrder(file, text) {
  if (!/[\\/]config[\\/]plugin\.js$/.test(file)) return text
  const sort = '.sort((a, b) => a.id.localeCompare(b.id));'
  if (text.split(sort).length !== 2) throw new Error(`${file}: the line "${sort}" changed; update idOrder in scripts/bundle-run.mjs`)
  return text.replace(sort, '.sort((a, b) => /^[a-z:-]*$/.test(a.id) && /^[a-z:-]*$/.test(b.id) ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.id.localeCompare(b.id));')
}

/**
 * oclif.cjs: @oclif/core and what it requires as ONE CommonJS file, all ASCII, with V8's code cache
 * (oclif.cjs.cache), for every command bin/run.js hands to oclif (src/cli/oclif-bundle.ts).
 * Two rewrites of oclif's own files: `__dirname` becomes the directory the file was bundled from
 * (oclif reads its package.json beside it), and `import(` becomes `__pipelockImport(`, the
 * wrapper's parameter (src/cli/run-bundle.ts): oclif imports the command files, and a script
 * compiled from a code cache has no `import()` of its own. One `import()` keeps its meaning and is
 * bundled: oclif's `import('wsl-utils')`, which every command's `Config.load` makes to name the
 * platform (six ES modules read, compiled and linked from node_modules at each start otherwise).
 * The cache is made by a node without flags that loads the bundle, the config and oclif's help
 * and version, so the functions every command start compiles lazily are in it as well.
 */
async function bundleOclif() {
  const file = path.join(outdir, 'oclif.cjs')
  const oclifLib = /[\\/]node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/].*\.js$/
  const rewrites = {
    name: 'oclif-in-one-file',
    setup(b) {
      b.onLoad({filter: /\.[cm]?js$/}, (args) => {
        const read = readFileSync(args.path, 'utf8')
        const dir = path.relative(outdir, path.dirname(args.path)).split(path.sep).join('/')
        const text = !oclifLib.test(args.path) ? read : idOrder(args.path, read)
          .replace(/(?<![\w$.])__dirname(?![\w$])/g, `require('node:path').join(__dirname, ${JSON.stringify(dir)})`)
          .replace(/(?<![\w$.])import\((?=[A-Za-z_$('`"])(?!'wsl-utils'\))/g, '__pipelockImport(')
        return {contents: asciiSource(text), loader: 'js'}
      })
    },
  }
  const result = await build({
    ...COMMON,
    format: 'cjs',
    stdin: {contents: "module.exports = require('@oclif/core')", resolveDir: root, loader: 'js'},
    // oclif itself is inside. It requires TypeScript only to run a plugin's uncompiled sources
    // (its development mode), which pipelock never does: outside, as in node_modules.
    external: ['typescript'],
    outfile: file,
    plugins: [rewrites],
    charset: 'ascii',
    minifyWhitespace: true,
    legalComments: 'external',
  })
  writeFileSync(path.join(outdir, 'oclif.meta.json'), JSON.stringify(result.metafile))
  assertAscii(file)
  const oclifLoader = JSON.stringify(new URL('../dist/src/cli/oclif-bundle.js', import.meta.url).href)
  const bin = JSON.stringify(new URL('../bin/run.js', import.meta.url).href)
  const train = [
    `import {writeFileSync} from 'node:fs'`,
    `const {compileBundle, bundleCacheContents} = await import(${BUNDLE_LOADER})`,
    `const {registerOclifBundle} = await import(${oclifLoader})`,
    `const b = compileBundle(${JSON.stringify(file)}, '')`,
    `const {Config, execute} = registerOclifBundle(b)`,
    `const config = await Config.load(${bin})`,
    `process.stdout.write = () => true`,
    `await execute({args: ['version'], loadOptions: config})`,
    `await execute({args: ['healthcheck', '--help'], loadOptions: config})`,
    `const data = bundleCacheContents(${JSON.stringify(file)}, b.script)`,
    `writeFileSync(${JSON.stringify(file + '.cache')}, data)`,
    `process.stderr.write(String(data.length))`,
  ].join('\n')
  makeCodeCache(file, train, 'loading oclif')
}
