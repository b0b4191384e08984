/**
 * A response still streaming to the agent is live work (relay/live-cut.ts): through the built
 * `pipelock run`, real sockets and a real SSE origin, the kill switch (a sentinel file) cuts an
 * SSE stream on the forward proxy and on the reverse proxy, and a body the reverse proxy streams
 * unchanged; a session terminate through the admin API cuts the session's SSE stream; a client in
 * `kill_switch.allowlist_ips` keeps its stream; an answer that arrives after the switch was thrown
 * is refused, not relayed. Each cut is recorded as a block before the agent sees it end. An
 * event stream, asked for or not, may stay quiet longer than the fetch timeout, up to
 * forward_proxy.idle_timeout_seconds (reverse proxy: no bound); a buffered body or one relayed
 * unchanged may not.
 */
import assert from 'node:assert/strict'
import {rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {stringify} from 'yaml'
import {auditEvents, baseConfig, presetConfig, rawHttp, reverseListenPort, type RunningProxy, startProxy, tempDir, until} from './proxy-harness.js'

/** An origin: `/sse` ticks an event every 100 ms until the client goes; `/octets` streams bytes likewise; `/slow` answers after 1.5 s. */
async function origin(): Promise<{port: number; close: () => Promise<void>}> {
  const server = http.createServer((req, res) => {
    const tick = (type: string, chunk: (i: number) => string): void => {
      res.writeHead(200, {'content-type': type})
      let i = 0
      const t = setInterval(() => res.write(chunk(i++)), 100)
      res.on('close', () => clearInterval(t))
    }
    if (req.url?.endsWith('/sse')) tick('text/event-stream', (i) => `data: tick ${i}\n\n`)
    else if (req.url?.endsWith('/octets')) tick('application/octet-stream', (i) => `chunk ${i};`)
    else setTimeout(() => res.writeHead(200, {'content-type': 'text/plain'}).end('late answer'), 1500)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

interface Streamed {
  /** Everything received. */
  readonly text: string
  /** How the response ended: `end` (a clean end) or `aborted`. */
  readonly ending: 'end' | 'aborted'
}

/**
 * Opens `path` on `port` (an absolute URL through a forward proxy, or a reverse-proxy path),
 * calls `during` once `ready` appears in the body, and resolves when the response ends.
 */
async function stream(port: number, target: string, ready: string, during: () => Promise<void>, headers: Record<string, string> = {}): Promise<Streamed> {
  return await new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, path: target, headers, agent: false}, (res) => {
      let text = ''
      // `during` may still be reading its own answer (a terminate's JSON) when the cut it causes
      // ends the stream: the result waits for it.
      let acting: Promise<void> = Promise.resolve()
      res.setEncoding('utf8')
      const settle = (ending: Streamed['ending']): void => void acting.then(() => resolve({text, ending}), reject)
      let started = false
      res.on('data', (c: string) => {
        text += c
        if (!started && text.includes(ready)) {
          started = true
          acting = during()
          acting.catch(reject)
        }
      })
      res.on('end', () => settle('end'))
      res.on('aborted', () => settle('aborted'))
      res.on('error', () => settle('aborted'))
    })
    req.on('error', reject)
    req.end()
  })
}

const LOOPBACK = 'ssrf:\n  ip_allowlist: ["127.0.0.1/32"]'

describe('pipelock run: the kill switch cuts responses that are still streaming', {timeout: 60_000}, () => {
  let up: Awaited<ReturnType<typeof origin>>
  let proxy: RunningProxy
  let reverse: string
  let sentinel: string
  before(async () => {
    up = await origin()
    const dir = tempDir()
    sentinel = path.join(dir, 'kill-switch')
    proxy = await startProxy(baseConfig([LOOPBACK, 'kill_switch:', `  sentinel_file: ${JSON.stringify(sentinel)}`].join('\n')), {
      dir,
      args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${up.port}`, '--reverse-listen', '127.0.0.1:0'],
    })
    const m = /pipelock: reverse proxy listening on 127\.0\.0\.1:(\d+)/.exec(proxy.stderr())
    assert.ok(m, proxy.stderr())
    reverse = m[1]!
  })
  after(async () => {
    rmSync(sentinel, {force: true})
    await proxy?.stop()
    await up?.close()
  })
  const throwSwitch = async (): Promise<void> => writeFileSync(sentinel, '')
  const release = async (): Promise<void> => {
    rmSync(sentinel, {force: true})
    assert.ok(await until(async () => (await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/slow-check`})).status !== 403, 5000))
  }

  it('an SSE stream through the forward proxy ends with a comment naming the kill switch, and is recorded as its block', async () => {
    const before = auditEvents(proxy, 'kill_switch_deny').length
    const s = await stream(proxy.port, `http://127.0.0.1:${up.port}/sse`, 'tick 1', throwSwitch)
    assert.equal(s.ending, 'end')
    assert.match(s.text, /^data: tick 0\n\n/)
    assert.ok(s.text.endsWith(': pipelock: kill switch active\n\n'), s.text)
    // Nothing of the origin's stream after the comment.
    assert.equal(s.text.split(': pipelock:')[1], ' kill switch active\n\n')
    assert.ok(await until(async () => auditEvents(proxy, 'kill_switch_deny').length > before))
    const e = auditEvents(proxy, 'kill_switch_deny').at(-1)!
    assert.equal(e.transport, 'forward')
    await release()
  })

  it('an SSE stream through the reverse proxy is cut the same way', async () => {
    const s = await stream(Number(reverse), '/sse', 'tick 1', throwSwitch)
    assert.equal(s.ending, 'end')
    assert.ok(s.text.endsWith(': pipelock: kill switch active\n\n'), s.text)
    assert.ok(await until(async () => auditEvents(proxy, 'kill_switch_deny').some((e) => e.transport === 'reverse')))
    await release()
  })

  it('an answer that arrives after the switch was thrown is refused, not relayed', async () => {
    const pending = rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/slow`})
    await new Promise((r) => setTimeout(r, 400))
    await throwSwitch()
    const r = await pending
    assert.equal(r.status, 403)
    assert.equal(r.headers['x-pipelock-block-reason'], 'kill_switch_active')
    assert.doesNotMatch(r.body, /late answer/)
    await release()
  })
})

describe('pipelock run: a body the reverse proxy streams unchanged is aborted by the kill switch', {timeout: 60_000}, () => {
  it('the stream is aborted (never ended as if whole) and the cut is recorded', async () => {
    const up = await origin()
    const dir = tempDir()
    const sentinel = path.join(dir, 'kill-switch')
    // Response scanning and the media policy off: the reverse proxy streams bodies unchanged.
    const proxy = await startProxy(['kill_switch:', `  sentinel_file: ${JSON.stringify(sentinel)}`, 'response_scanning:', '  enabled: false', 'media_policy:', '  enabled: false', ''].join('\n'), {
      dir,
      args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${up.port}`, '--reverse-listen', '127.0.0.1:0'],
    })
    try {
      const port = reverseListenPort(proxy)
      const s = await stream(port, '/octets', 'chunk 1;', async () => writeFileSync(sentinel, ''))
      assert.equal(s.ending, 'aborted')
      assert.match(s.text, /^chunk 0;chunk 1;/)
      assert.ok(await until(async () => auditEvents(proxy, 'kill_switch_deny').some((e) => e.transport === 'reverse')))
    } finally {
      rmSync(sentinel, {force: true})
      await proxy.stop()
      await up.close()
    }
  })
})

describe('pipelock run: kill_switch.allowlist_ips keeps an exempt client\'s stream', {timeout: 60_000}, () => {
  it('the stream goes on after the switch is thrown', async () => {
    const up = await origin()
    const dir = tempDir()
    const sentinel = path.join(dir, 'kill-switch')
    const proxy = await startProxy(baseConfig([LOOPBACK, 'kill_switch:', `  sentinel_file: ${JSON.stringify(sentinel)}`, '  allowlist_ips: ["127.0.0.1/32"]'].join('\n')), {dir})
    try {
      let thrownAt = 0
      const s = await new Promise<string>((resolve, reject) => {
        const req = http.request({host: '127.0.0.1', port: proxy.port, path: `http://127.0.0.1:${up.port}/sse`, agent: false}, (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => {
            text += c
            if (thrownAt === 0 && text.includes('tick 1')) {
              writeFileSync(sentinel, '')
              thrownAt = Date.now()
            }
            // A second past the switch (the sentinel is polled four times a second): still flowing.
            if (thrownAt > 0 && Date.now() - thrownAt > 1000) {
              req.destroy()
              resolve(text)
            }
          })
          res.on('end', () => resolve(text))
        })
        req.on('error', reject)
        req.end()
      })
      assert.doesNotMatch(s, /pipelock:/)
      assert.match(s, /tick 9/)
    } finally {
      rmSync(sentinel, {force: true})
      await proxy.stop()
      await up.close()
    }
  })
})

const TOKEN = 'live-stream-token'

describe('pipelock run: a session terminate cuts the session\'s SSE stream', {timeout: 60_000}, () => {
  let up: Awaited<ReturnType<typeof origin>>
  let proxy: RunningProxy
  before(async () => {
    up = await origin()
    const c = presetConfig('balanced')
    c.ssrf = {ip_allowlist: ['127.0.0.1/32']}
    c.kill_switch.api_token = TOKEN
    c.airlock = {enabled: true, triggers: {on_elevated: 'soft', on_high: 'hard', on_critical: 'drain'}}
    proxy = await startProxy(stringify(c))
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('terminate answers connections_cut 1; the stream ends with a comment naming the cut, recorded as an airlock block', async () => {
    let cut: unknown
    const terminate = async (): Promise<void> => {
      const r = await fetch(`http://127.0.0.1:${proxy.port}/api/v1/sessions/${encodeURIComponent('live-agent|127.0.0.1')}/terminate`, {method: 'POST', headers: {Authorization: `Bearer ${TOKEN}`}})
      cut = ((await r.json()) as {connections_cut?: number}).connections_cut
    }
    const s = await stream(proxy.port, `http://127.0.0.1:${up.port}/sse`, 'tick 1', terminate, {'X-Pipelock-Agent': 'live-agent'})
    assert.equal(s.ending, 'end')
    assert.ok(s.text.endsWith(': pipelock: stream cut: session terminated\n\n'), s.text)
    assert.equal(cut, 1)
    assert.ok(await until(async () => auditEvents(proxy, 'blocked').some((e) => e.reason === 'stream cut: session terminated' || JSON.stringify(e).includes('stream cut: session terminated'))), proxy.stdout())
  })
})

describe('pipelock run: an event stream may stay quiet up to forward_proxy.idle_timeout_seconds, a buffered body up to the fetch timeout', {timeout: 60_000}, () => {
  let server: http.Server
  let port = 0
  let proxy: RunningProxy
  let reversePort = 0
  before(async () => {
    // `/gap/<s>`: one event, then a second after <s> seconds, then the end; `/text/<s>` and
    // `/audio/<s>` the same with a body of that type.
    server = http.createServer((req, res) => {
      const type = req.url!.startsWith('/text/') ? 'text/plain' : req.url!.startsWith('/audio/') ? 'audio/mpeg' : 'text/event-stream'
      res.writeHead(200, {'content-type': type})
      res.write('data: one\n\n')
      const t = setTimeout(() => res.end('data: two\n\n'), Number(req.url!.split('/').at(-1)) * 1000)
      res.on('close', () => clearTimeout(t))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as AddressInfo).port
    proxy = await startProxy(['forward_proxy:', '  enabled: true', '  idle_timeout_seconds: 3', 'fetch_proxy:', '  timeout_seconds: 1', 'media_policy:', '  strip_audio: false', LOOPBACK, ''].join('\n'), {
      args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${port}`, '--reverse-listen', '127.0.0.1:0'],
    })
    reversePort = reverseListenPort(proxy)
  })
  after(async () => {
    await proxy?.stop()
    server?.closeAllConnections()
    await new Promise<void>((r) => server?.close(() => r()))
  })
  const read = async (gap: number, accept?: string): Promise<string> => (await stream(proxy.port, `http://127.0.0.1:${port}/gap/${gap}`, 'one', async () => undefined, accept === undefined ? {} : {Accept: accept})).text

  it('with Accept: text/event-stream a 2 s gap passes (the fetch timeout is 1 s)', async () => {
    assert.equal(await read(2, 'application/json, text/event-stream'), 'data: one\n\ndata: two\n\n')
  })

  it('a stream quiet for longer than the idle bound ends, and the log names the setting', async () => {
    assert.equal(await read(5, 'text/event-stream'), 'data: one\n\n')
    assert.ok(await until(async () => auditEvents(proxy, 'response_scan').some((e) => e.message === 'SSE stream ended by an upstream error' && e.error === 'no data for 3 s (forward_proxy.idle_timeout_seconds)')), proxy.stdout())
  })

  it('an event stream the agent did not ask for is bounded by the idle bound too: the answer says it is a stream', async () => {
    assert.equal(await read(2), 'data: one\n\ndata: two\n\n')
  })

  it('a buffered body quiet for longer than the fetch timeout is an upstream failure (502, logged as an error), not a size block', async () => {
    const r = await rawHttp(proxy.port, {path: `http://127.0.0.1:${port}/text/2`, headers: {Accept: 'text/event-stream'}})
    assert.equal(r.status, 502)
    assert.equal(r.body, 'forward proxy fetch failed\n')
    assert.equal(r.headers['x-pipelock-block-reason'], undefined)
    assert.ok(await until(async () => auditEvents(proxy, 'error').some((e) => JSON.stringify(e).includes('forward proxy fetch failed: no data for 1 s (fetch_proxy.timeout_seconds)'))), proxy.stdout())
    // Quiet for less than the fetch timeout: whole.
    const whole = await rawHttp(proxy.port, {path: `http://127.0.0.1:${port}/text/0.3`})
    assert.equal(whole.status, 200)
    assert.equal(whole.body, 'data: one\n\ndata: two\n\n')
  })

  it('through the reverse proxy an event stream is not bounded by the fetch timeout, asked for or not; a body relayed unchanged is', async () => {
    const viaReverse = async (p: string, accept?: string): Promise<Streamed> => await stream(reversePort, p, 'one', async () => undefined, accept === undefined ? {} : {Accept: accept})
    assert.equal((await viaReverse('/gap/2', 'text/event-stream')).text, 'data: one\n\ndata: two\n\n')
    assert.equal((await viaReverse('/gap/2')).text, 'data: one\n\ndata: two\n\n')
    // Audio is relayed unchanged (media_policy.strip_audio off): quiet past the fetch timeout, it is aborted, never ended as if whole.
    const audio = await viaReverse('/audio/2')
    assert.equal(audio.text, 'data: one\n\n')
    assert.equal(audio.ending, 'aborted')
    const quick = await viaReverse('/audio/0.3')
    assert.deepEqual(quick, {text: 'data: one\n\ndata: two\n\n', ending: 'end'})
  })
})
