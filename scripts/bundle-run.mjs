#!/usr/bin/env node
// Bundles `pipelock run` (part of `npm run build`, after tsc; issue 18, start-up). Node 20 loads an
// ES module graph file by file: resolution, a stat and a read per file, a compile per module.
// `run` loaded ≈ 420 ES modules and ≈ 230 CommonJS files, and that per-module work was about
// half of its start-up CPU (docs/benchmarks.md, "Start-up: the bundled run path"). esbuild joins
// the command and everything it imports into a few files under dist/run/; modules reached only
// through a dynamic `import()` (the WebSocket relay, the MCP listener) stay in chunks of their own
// that load when the config asks for them, exactly as before.
//
// Kept outside the bundle: @oclif/core (bin/run.js and the command must share one copy: the
// command class extends oclif's, and errors cross between them) and re2 (a native addon).
// `import.meta.url` in a bundled source file is rewritten to that file's own URL in dist/src, so
// `new URL('./worker.js', import.meta.url)` still names the worker beside it.
//
// The manifest (scripts/gen-manifest.mjs) points oclif's `run` at dist/run/run.js; every other
// command, and every test importing dist/src, uses tsc's output as before. dist/run/meta.json is
// esbuild's metafile: which source files went into which chunk (test/e2e/startup-laziness.test.ts
// reads it to tell what a run loaded).
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'
import {directImports} from './bundle-direct-imports.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const outdir = path.join(root, 'dist', 'run')
const srcDir = path.join(root, 'dist', 'src') + path.sep

/**
 * `import.meta.url` of a bundled dist/src file → that file's URL, computed from the chunk's (in
 * `outdir`). `transform(text, file)`, when given, rewrites every dist/src file first.
 */
const ownUrl = (outdir, transform) => ({
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({filter: /\.js$/}, (args) => {
      if (!args.path.startsWith(srcDir)) return undefined
      const read = readFileSync(args.path, 'utf8')
      const text = transform === undefined ? read : transform(read, args.path)
      if (text === read && !text.includes('import.meta.url')) return undefined
      const rel = path.relative(outdir, args.path).split(path.sep).join('/')
      return {contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'js'}
    })
  },
})

/**
 * Pipelock's own modules have no import-time side effects (ARCHITECTURE.md), so a plugin's
 * index.ts re-exporting many files must not drag the unused ones (and the CommonJS packages
 * they require) into a bundle: the MCP wrap imports a few settings helpers from the proxy
 * plugin's index and needs none of its server, upstream client or recorder (issue 12). This marks
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
 * in V8's heap and parsed at start, issue 12) though zod configures English itself and pipelock
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
 * Bundles `entryPoints` into `dir` with esbuild's metafile beside them (dir/meta.json); `o.transform`
 * rewrites the dist/src sources, `o.plugins` and `o.options` add to the build.
 */
async function bundle(entryPoints, dir, o = {}) {
  const result = await build({
    entryPoints,
    outdir: dir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['@oclif/core', 're2'],
    // CommonJS dependencies (undici, yaml) call require() for Node's built-ins.
    banner: {js: "import {createRequire as __pipelockRequire} from 'node:module'; const require = __pipelockRequire(import.meta.url);"},
    plugins: [ownUrl(dir, o.transform), ...(o.plugins ?? [])],
    metafile: true,
    logLevel: 'warning',
    ...o.options,
  })
  // CommonJS code bundled into an ES module has no __dirname: fail the build rather than at run time.
  for (const file of Object.keys(result.metafile.outputs)) {
    const text = readFileSync(path.join(root, file), 'utf8')
    if (/(?<!typeof )\b__dirname\b/.test(text)) throw new Error(`${file}: a bundled module uses __dirname; keep its package external`)
  }
  writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(result.metafile))
  console.log(`${path.relative(root, dir)}: ${Object.keys(result.metafile.outputs).length} files`)
}

rmSync(outdir, {recursive: true, force: true})
// direct.js: `run` without oclif (src/cli/run-direct.ts; bin/run.js tries it first).
await bundle({run: path.join(root, 'dist', 'src', 'commands', 'run.js'), direct: path.join(root, 'dist', 'src', 'cli', 'run-direct.js')}, outdir)
// The stdio wrap's oclif-free start (bin/run.js, src/cli/mcp-proxy-run.ts; issue 12), a build of
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
