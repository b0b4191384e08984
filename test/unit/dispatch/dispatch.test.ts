/**
 * src/plugins/dispatch: undici's Agent, Client and buildConnector without undici's index (issue 18,
 * start-up). The oracle is undici's own index: the classes must be the very ones it exports, and
 * the dispatcher API (`request`) must work without the index ever being loaded. The second check
 * runs in a fresh process, since any import of 'undici' in this one would add the API itself.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {pathToFileURL} from 'node:url'
import {describe, it} from 'node:test'
import {Agent, Client, buildConnector} from '../../../src/plugins/dispatch/index.js'
import {repoPath} from '../../helpers/vectors.js'

describe('dispatch: undici classes without its index', () => {
  it('exports the very classes undici\'s index exports', async () => {
    const undici = await import('undici')
    assert.equal(Agent, undici.Agent)
    assert.equal(Client, undici.Client)
    assert.equal(buildConnector, undici.buildConnector)
  })

  it('an Agent from it serves agent.request() in a process that never loads undici\'s index', () => {
    const dispatch = pathToFileURL(repoPath('dist', 'src', 'plugins', 'dispatch', 'index.js')).href
    const script = `
      import http from 'node:http'
      import {createRequire} from 'node:module'
      const {Agent, Client} = await import(${JSON.stringify(dispatch)})
      const server = http.createServer((req, res) => res.end('hello ' + req.method + ' ' + req.url))
      await new Promise((r) => server.listen(0, '127.0.0.1', r))
      const origin = 'http://127.0.0.1:' + server.address().port
      const agent = new Agent()
      const a = await agent.request({origin, path: '/a', method: 'GET'})
      const client = new Client(origin)
      const b = await client.request({path: '/b', method: 'POST', body: 'x'})
      const out = [a.statusCode, await a.body.text(), b.statusCode, await b.body.text()]
      await agent.close(); await client.close(); server.close()
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/node_modules/undici/'))
      console.log(JSON.stringify({out, index: loaded.some((f) => f.endsWith('/node_modules/undici/index.js')), files: loaded.length}))`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {cwd: repoPath(), encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    const got = JSON.parse(r.stdout) as {out: unknown[]; index: boolean; files: number}
    assert.deepEqual(got.out, [200, 'hello GET /a', 200, 'hello POST /b'])
    assert.equal(got.index, false)
    assert.ok(got.files > 0, 'undici files were loaded (through the dispatch plugin)')
  })
})
