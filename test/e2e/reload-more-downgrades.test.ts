/**
 * docs/config.md, Hot reload: `browser_shield.max_shield_bytes` moved the way its oversize action
 * makes looser is refused on a strict-mode run.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {startProxy, tempDir, until} from './proxy-harness.js'

const REFUSED = 'pipelock: config reload failed: rejected: security downgrade from strict mode'
const NOTE = '; to apply it without a restart, attach an operator note to this file (pipelock policy note --reload, or <config>.change)'
const lines = (text: string, prefix: string): string[] => text.split('\n').filter((l) => l.startsWith(prefix))

describe('reload comparisons: shield size', {timeout: 120_000}, () => {
  it('browser_shield.max_shield_bytes lowered under scan_head: refused in strict mode', async () => {
    const cfg = (bytes: number): string => ['mode: strict', 'browser_shield:', '  enabled: true', '  oversize_action: scan_head', `  max_shield_bytes: ${bytes}`].join('\n') + '\n'
    const dir = tempDir('pl-reload-shield-')
    const proxy = await startProxy(cfg(5242880), {dir})
    try {
      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg(1024))
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => lines(proxy.stderr(), REFUSED).length === 1, 10_000), proxy.stderr())
      assert.equal(lines(proxy.stderr(), REFUSED)[0], `${REFUSED} (browser_shield.max_shield_bytes: 5242880 -> 1024)${NOTE}`)
      // raising it under scan_head only shields more
      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg(8388608))
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => proxy.stdout().includes('config reloaded'), 10_000), proxy.stderr())
      assert.equal(lines(proxy.stderr(), REFUSED).length, 1)
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
  })

})
