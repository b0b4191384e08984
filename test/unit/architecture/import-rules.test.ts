// The import rules of docs/architecture.md, checked with dependency-cruiser over src/: downward
// layers, plugins through index.ts, transports never importing transports, no circles. The
// second test proves the rules bite on a small tree that breaks each of them.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('../../../../', import.meta.url))
const cruiser = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')

function cruise(cwd: string): {status: number | null; out: string} {
  const r = spawnSync(process.execPath, [cruiser, 'src', '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'err'], {cwd, encoding: 'utf8'})
  return {status: r.status, out: `${r.stdout}${r.stderr}`}
}

test('src/ keeps every import rule', () => {
  const r = cruise(root)
  assert.equal(r.status, 0, r.out)
  assert.match(r.out, /no dependency violations found/)
})

test('the rules catch a transport importing a transport, an upward import, a deep import, a circle and a transport reaching for the composition root', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-arch-'))
  try {
    cpSync(path.join(root, 'tsconfig.json'), path.join(dir, 'tsconfig.json'))
    const put = (file: string, text: string): void => {
      mkdirSync(path.dirname(path.join(dir, file)), {recursive: true})
      writeFileSync(path.join(dir, file), text)
    }
    put('src/plugins/proxy/connect-handler.ts', 'export const c = 1\n')
    put('src/plugins/proxy/fetch-handler.ts', "import {c} from './connect-handler.js'\nexport const f = c\n")
    put('src/plugins/proxy/index.ts', "export {f} from './fetch-handler.js'\n")
    put('src/plugins/canonical/index.ts', "import {f} from '../proxy/index.js'\nexport const up = f\n")
    put('src/plugins/scanner/index.ts', "import {c} from '../proxy/connect-handler.js'\nexport const deep = c\n")
    put('src/plugins/tls/a.ts', "import {b} from './b.js'\nexport const a = () => b\n")
    put('src/plugins/tls/b.ts', "import {a} from './a.js'\nexport const b = () => a\n")
    put('src/plugins/newcomer/index.ts', "import {up} from '../canonical/index.js'\nexport const n = up\n")
    // A transport that reaches for the composition root (the runtime as a service locator).
    put('src/plugins/proxy/compose.ts', 'export const runtime = {}\n')
    put('src/plugins/proxy/reverse/handler.ts', "import {runtime} from '../compose.js'\nexport const r = runtime\n")
    const r = cruise(dir)
    assert.notEqual(r.status, 0)
    for (const rule of ['transport-fetch-imports-no-transport', 'layer-0-points-down', 'plugin-through-index', 'no-circular', 'plugin-has-a-layer', 'composition-root-only-from-the-listener', 'parts-never-import-the-listener']) {
      assert.match(r.out, new RegExp(`error ${rule}:`), `${rule} not reported:\n${r.out}`)
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
