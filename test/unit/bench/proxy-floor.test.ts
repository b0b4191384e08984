/**
 * The `proxy` bench's floor (bench/proxy-floor.ts): for a text page its response part is the RE2
 * walks runtime.md §7 requires (the page and its visible text), measured beside pipelock's own
 * check of it; for a binary body it is the check itself. What the bench prints as the floor is
 * URL scan + header DLP + that part.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {htmlBody} from '../../../bench/body-scan.js'
import {ProxyFloor} from '../../../bench/proxy-floor.js'
import {PEERS_CONFIG, presetBenchConfig} from '../../../bench/proxy-peers.js'

function config(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'pipelock-floor-')), 'c.yaml')
  writeFileSync(file, text)
  return file
}

const base = {url: 'http://127.0.0.1:9/bin', headers: [['Host', '127.0.0.1:9']] as Array<[string, string]>, host: '127.0.0.1'}

test('a text page: the floor takes the walks §7 requires, pipelock\'s own check beside them', async () => {
  const floor = new ProxyFloor(config(presetBenchConfig('balanced')), {...base, body: htmlBody(16 * 1024), markup: true})
  const c = await floor.measure(0.3)
  assert.ok(c.walksUs !== null && c.walksUs > 0, JSON.stringify(c))
  assert.ok(c.responseUs > 0)
  assert.ok(Math.abs(c.totalUs - (c.urlUs + c.headersUs + c.walksUs)) < 1e-9, JSON.stringify(c))
})

test('a binary body: no walks, the floor takes the check as the proxy runs it', async () => {
  const body = Buffer.from(Array.from({length: 1024}, (_, i) => i & 0xff))
  const floor = new ProxyFloor(config(PEERS_CONFIG), {...base, body, markup: false})
  const c = await floor.measure(0.3)
  assert.equal(c.walksUs, null)
  assert.ok(Math.abs(c.totalUs - (c.urlUs + c.headersUs + c.responseUs)) < 1e-9, JSON.stringify(c))
})
