import {existsSync} from 'node:fs'

/**
 * The file a worker thread starts from: the worker's bundle (dist/run/workers/, made by
 * scripts/bundle-run.mjs in `npm run build`) when there is one, else the worker module itself.
 *
 * A worker module in dist/src is an ES module graph that Node 20 loads file by file (a resolution,
 * a stat, a read and a compile per module): the body-scan worker imported ≈ 400 ms of modules
 * before its first job (≈ 500 ms of CPU), and the first large body a fresh `pipelock run` saw
 * waited ≈ 0.7 s for it. Its bundle is the same code in one file and a few shared chunks, loaded in
 * ≈ 90 ms. The bundle's modules keep their own `import.meta.url` (the dist/src file's), so a
 * WebAssembly file or another worker beside a module is found as before.
 *
 * `url` outside dist/src (a test's own worker), or a tree where only tsc ran, has no bundle: the
 * worker module is used as given. Answers are memoised per URL (one stat per worker kind).
 */
export function bundledWorkerUrl(url: URL): URL {
  const known = chosen.get(url.href)
  if (known !== undefined) return known
  let out = url
  if (url.href.startsWith(SRC.href)) {
    const bundled = new URL(url.href.slice(SRC.href.length), BUNDLED)
    if (existsSync(bundled)) out = bundled
  }
  chosen.set(url.href, out)
  return out
}

/** dist/src/, the tree this module was compiled into (bundles keep this module's own URL). */
const SRC = new URL('../../', import.meta.url)
/** dist/run/workers/: one bundle per worker module, at the worker's path below dist/src. */
const BUNDLED = new URL('../../../run/workers/', import.meta.url)
const chosen = new Map<string, URL>()
