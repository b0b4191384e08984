// The file sentry's runner over a real directory watch (containment.md §3): a secret written
// under a watch path is one finding — stderr line, audit line, receipt, counter — and not the
// agent's when no tracked process holds the file open; a relative path escaping the config
// directory is refused.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {loadConfig} from '../../../src/plugins/config/index.js'
import {fileSentryRoots, startFileSentry, type FileFindingReceipt} from '../../../src/plugins/filesentry/index.js'
import {scannerSettingsFromConfig} from '../../../src/plugins/proxy/index.js'
import {createScanner} from '../../../src/plugins/scanner/index.js'

const AWS_KEY = ['AKIA', 'QYLPMN5HHHFPZAM2'].join('')

test('a write under watch_paths is a finding: line, audit, receipt and counter; unattributed, so block does not fire', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-fs-unit-'))
  try {
    const cfgFile = path.join(dir, 'pipelock.yaml')
    writeFileSync(cfgFile, 'file_sentry:\n  enabled: true\n  watch_paths: ["."]\n  action: block\n')
    const config = loadConfig(cfgFile, {env: {}}).config
    const lines: string[] = []
    const receipts: FileFindingReceipt[] = []
    const s = await startFileSentry({config, configFile: cfgFile, cwd: '/', scanner: createScanner(scannerSettingsFromConfig(config, {env: {}})), log: (l) => void lines.push(l), receipt: (r) => void receipts.push(r), subject: 'the test'})
    assert.ok(s !== null)
    s.setRoot(process.pid)
    const file = path.join(dir, 'out.txt')
    writeFileSync(file, `key ${AWS_KEY}\n`)
    const deadline = Date.now() + 20_000
    while (receipts.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    await s.close()
    assert.deepEqual(receipts, [{path: file, pattern: 'AWS Access ID', severity: 'critical', verdict: 'warn'}])
    assert.ok(lines.includes(`pipelock: [file_sentry] DLP match in ${file}: AWS Access ID (severity=critical)`), lines.join('\n'))
    assert.equal(s.blockedReason(), null)
    assert.deepEqual(s.metrics().slice(2), ['pipelock_file_sentry_findings_total{agent="false",pattern="AWS Access ID",severity="critical"} 1'])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('watch roots: relative to the config file directory, never escaping it', () => {
  assert.deepEqual(fileSentryRoots(['.', 'sub', '/abs/x'], '/etc/pl/c.yaml', '/cwd'), ['/etc/pl', '/etc/pl/sub', '/abs/x'])
  assert.deepEqual(fileSentryRoots(['w'], undefined, '/cwd'), ['/cwd/w'])
  assert.throws(() => fileSentryRoots(['../up'], '/etc/pl/c.yaml', '/'), /file_sentry: watch_paths\[0\] "\.\.\/up" escapes config directory \(use absolute path instead\)/)
})
