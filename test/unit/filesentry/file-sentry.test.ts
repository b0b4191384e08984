// The file sentry's runner over a real directory watch (containment.md §3): a secret written
// under a watch path is one finding — stderr line, audit line, receipt, counter — and not the
// agent's when no tracked process holds the file open; a relative path escaping the config
// directory is refused.
import assert from 'node:assert/strict'
import {closeSync, mkdtempSync, openSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {loadConfig} from '../../../src/plugins/config/index.js'
import {DEBOUNCE_MS, FileSentry, fileSentryRoots, startFileSentry, type FileFindingReceipt, type SentryFinding} from '../../../src/plugins/filesentry/index.js'
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

test('one version of a file is one finding: events that change nothing are not scanned again, and an unattributed finding is reported once more only when the agent is found writing it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-fs-unit-'))
  const findings: SentryFinding[] = []
  const s = await FileSentry.arm({roots: [dir], ignorePatterns: [], scanContent: true, scanner: createScanner(scannerSettingsFromConfig(loadConfig(undefined, {env: {}}).config, {env: {}})), onFinding: (f) => void findings.push(f), onError: (m) => assert.fail(m)})
  // The watcher's event for a path, as chokidar delivers it (add, then change, of one write).
  const event = (p: string): void => (s as unknown as {event(p: string): void}).event(p)
  const settle = async (n: number): Promise<void> => {
    const deadline = Date.now() + 20_000
    while (findings.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    await new Promise((r) => setTimeout(r, 4 * DEBOUNCE_MS))
  }
  const file = path.join(dir, 'out.txt')
  const fd = openSync(file, 'w')
  try {
    writeFileSync(fd, `key ${AWS_KEY}\n`)
    // Not yet attributed (no root): one unattributed finding, and a second event changes nothing.
    await settle(1)
    event(file)
    await settle(1)
    assert.deepEqual(findings.map((f) => f.isAgent), [false])
    // The agent is found holding the file open: the same version once more, now the agent's, and
    // never again however many events come (the duplicate the sandbox test saw on a busy host).
    s.setRoot(process.pid)
    event(file)
    await settle(2)
    event(file)
    event(file)
    await settle(2)
    assert.deepEqual(findings.map((f) => [f.isAgent, f.pattern]), [[false, 'AWS Access ID'], [true, 'AWS Access ID']])
    // A new version is a new finding.
    writeFileSync(fd, `again ${AWS_KEY}\n`)
    await settle(3)
    assert.equal(findings.length, 3)
  } finally {
    closeSync(fd)
    await s.close()
    rmSync(dir, {recursive: true, force: true})
  }
})
