import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {request} from 'undici'
import {repoPath} from '../helpers/vectors.js'
import {freePort, rawHttp, startHttpUpstream, startProxy, until, type Upstream} from './proxy-harness.js'

// Capture during observe: identity is bound, not claimed. A client on the main listener that
// names an agent bound to its own listener never adds to that agent's capture (refused or not at
// the identity stage), and is reported once; a run that captures warns at start about agents a
// client can claim, with how to bind them.

const HOW = 'bind each agent with agents.<name>.listeners or agents.<name>.source_cidrs (docs/agents.md)'

/** Every capture record under `dir`, by session directory. */
function captures(dir: string): Map<string, Array<{agent?: string; url: string}>> {
  const out = new Map<string, Array<{agent?: string; url: string}>>()
  for (const session of readdirSync(dir).filter((n) => n !== 'capture-meta').sort()) {
    for (const file of readdirSync(path.join(dir, session)).filter((n) => n.endsWith('.jsonl')).sort()) {
      for (const line of readFileSync(path.join(dir, session, file), 'utf8').split('\n')) {
        if (line === '') continue
        const e = JSON.parse(line) as {type: string; detail: {agent?: string; request: {url: string}}}
        if (e.type !== 'capture') continue
        out.set(session, [...(out.get(session) ?? []), {...(e.detail.agent !== undefined ? {agent: e.detail.agent} : {}), url: e.detail.request.url}])
      }
    }
  }
  return out
}

async function viaFetch(port: number, target: string, agent?: string): Promise<{status: number; reason: string | undefined}> {
  const r = await request(`http://127.0.0.1:${port}/fetch?url=${encodeURIComponent(target)}`, {headers: agent === undefined ? {} : {'x-pipelock-agent': agent}})
  await r.body.text()
  return {status: r.statusCode, reason: r.headers['x-pipelock-block-reason'] as string | undefined}
}

describe('capture never files a claim under a bound agent', () => {
  let up: Upstream
  before(async () => {
    up = await startHttpUpstream()
  })
  after(async () => {
    await up.close()
  })

  for (const exclusive of [true, false]) {
    it(`exclusive_agent_binding: ${exclusive}: the claim is ${exclusive ? 'refused' : 'served'}, not captured, and reported once`, async () => {
      const listener = await freePort()
      const capture = path.join(mkdtempSync(path.join(tmpdir(), 'pl-capture-id-')), 'capture')
      const config = [
        'forward_proxy: {enabled: true}',
        'ssrf: {ip_allowlist: ["127.0.0.0/8"]}',
        `exclusive_agent_binding: ${exclusive}`,
        'agents:',
        `  shop-agent: {listeners: ["127.0.0.1:${listener}"]}`,
        '  billing: {}',
      ].join('\n') + '\n'
      const p = await startProxy(config, {args: ['--capture-output', capture]})
      try {
        assert.ok(
          await until(async () => p.stderr().includes(`WARNING: capture: agents not bound to a listener or source CIDR: billing: any client can claim these names (X-Pipelock-Agent header, ?agent= on /fetch) and add to their captures; ${HOW}\n`)),
          p.stderr(),
        )
        const target = `http://127.0.0.1:${up.port}/page`
        // The bound agent, on its own listener.
        assert.equal((await viaFetch(listener, `${target}?from=listener`)).status, 200)
        // Claims of it from the main listener: header and query.
        const claimed = await viaFetch(p.port, `${target}?from=claim`, 'shop-agent')
        assert.deepEqual(claimed, exclusive ? {status: 403, reason: 'identity_not_bound'} : {status: 200, reason: undefined})
        assert.equal((await request(`http://127.0.0.1:${p.port}/fetch?agent=shop-agent&url=${encodeURIComponent(`${target}?from=query`)}`)).statusCode, exclusive ? 403 : 200)
        // A claim of an unbound profile is still captured under it (the start-up warning said so).
        assert.equal((await viaFetch(p.port, `${target}?from=billing`, 'billing')).status, 200)
        const line = `WARNING: capture: a request from 127.0.0.1 claimed agent "shop-agent", which is bound to its own listener or source CIDR: not captured (counted in pipelock_learn_capture_claims_refused_total)\n`
        assert.ok(await until(async () => p.stderr().includes(line)), p.stderr())
        assert.equal(p.stderr().split(line).length - 1, 1, 'reported once per agent and client')
        const m = await rawHttp(p.port, {path: '/metrics'})
        assert.match(m.body, /^pipelock_learn_capture_claims_refused_total 2$/m)
      } finally {
        await p.stop()
      }
      const got = captures(capture)
      assert.deepEqual([...got.keys()], ['billing|127.0.0.1', 'shop-agent|127.0.0.1'])
      // Only the listener's request is in shop-agent's capture (no query kept: no salt configured).
      assert.deepEqual(got.get('shop-agent|127.0.0.1'), [{agent: 'shop-agent', url: `http://127.0.0.1:${up.port}/page`}])
      assert.equal(got.get('billing|127.0.0.1')?.length, 1)
    })
  }
})

describe('learn observe warns at start when no agent is bound', () => {
  it('prints how to bind agents, then captures as before', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pl-observe-id-'))
    const cfg = path.join(dir, 'observe.yaml')
    writeFileSync(cfg, 'forward_proxy: {enabled: true}\n')
    const child = spawn(process.execPath, [repoPath('bin', 'run.js'), 'learn', 'observe', '--config', cfg, '--capture-dir', path.join(dir, 'capture'), '--listen', '127.0.0.1:0'], {
      env: {...process.env, NO_COLOR: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      // The lines can reach this pipe in separate chunks: wait for the warning's whole line too.
      assert.ok(await until(async () => /pipelock: capture: /.test(err) && /Listen: /.test(err) && /WARNING: capture: no agent is bound[^\n]*\n/.test(err), 15_000), err)
      assert.ok(
        err.includes(`WARNING: capture: no agent is bound to a listener or source CIDR: any client can name any agent (X-Pipelock-Agent header, ?agent= on /fetch) and its requests are captured as that agent's; ${HOW}\n`),
        err,
      )
    } finally {
      child.kill('SIGINT')
      assert.equal(await exited, 0)
    }
    assert.ok(existsSync(path.join(dir, 'capture')))
  })
})
