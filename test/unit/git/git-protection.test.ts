// Git protection's pieces (containment.md §4): branch globs, the receive-pack parser over packs
// real git builds (whole objects, deltas against the same pack, a thin pack's deltas), and the
// config checks. The file sentry's ignore rules (§3.3) are here too: the same glob family.
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {branchRefusal, checkReceivePack, parseReceivePack, scanCommitMessages, scanDiff, scanPush} from '../../../src/plugins/git/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {ignoreMatcher} from '../../../src/plugins/filesentry/index.js'
import {assertRefused, load} from '../config/helpers.js'
import {gitIn} from '../../helpers/git-repo.js'
import {scannerSettingsFromConfig} from '../../../src/plugins/proxy/index.js'
import {createScanner} from '../../../src/plugins/scanner/index.js'

const AWS_KEY = ['AKIA', 'QYLPMN5HHHFPZAM2'].join('')
const ZERO = '0'.repeat(40)

test('allowed_branches: * and ? never cross /, classes, no patterns allow everything', () => {
  const p = ['feature/*', 'fix/?', 'rel-[0-9]', 'main']
  assert.equal(branchRefusal('feature/x', p), null)
  assert.equal(branchRefusal('fix/a', p), null)
  assert.equal(branchRefusal('rel-3', p), null)
  assert.equal(branchRefusal('main', p), null)
  assert.equal(branchRefusal('feature/x/y', p), 'branch "feature/x/y" does not match any allowed pattern: [feature/*, fix/?, rel-[0-9], main]')
  assert.notEqual(branchRefusal('fix/ab', p), null)
  assert.notEqual(branchRefusal('mainline', p), null)
  assert.equal(branchRefusal('anything', []), null)
})

test('scanDiff: added lines with new-file line numbers and commits; removed lines and inline ignores are not findings', () => {
  const diff = [
    `commit ${'a'.repeat(40)}`, '', '    message', '',
    'diff --git a/x.env b/x.env', '--- a/x.env', '+++ b/x.env', '@@ -1,2 +10,3 @@', ' keep', `-OLD=${AWS_KEY}`, `+NEW=${AWS_KEY}`, `+IGNORED=${AWS_KEY} # pipelock:ignore`, '',
  ].join('\n')
  const scanner = {scanTextForDlp: (t: string) => ({matches: t.includes(AWS_KEY) ? [{pattern: 'AWS Access ID', severity: 'critical' as const, core: true, encoding: '', warn: false}] : [], warnings: []})}
  assert.deepEqual(scanDiff(scanner as never, diff), [{file: 'x.env', line: 11, pattern: 'AWS Access ID', severity: 'critical', commit: 'a'.repeat(40)}])
  // A name with a space: git ends the header with a tab, which is not part of the name.
  const spaced = ['diff --git a/sp ace.txt b/sp ace.txt', '--- /dev/null', '+++ b/sp ace.txt\t', '@@ -0,0 +1 @@', `+K=${AWS_KEY}`, ''].join('\n')
  assert.deepEqual(scanDiff(scanner as never, spaced).map((f) => f.file), ['sp ace.txt'])
  // Commit messages, from `git log --format=%H%x00%B%x00`: by commit and message line.
  const log = `${'b'.repeat(40)}\0subject\n\nkey ${AWS_KEY}\n\0\n${'c'.repeat(40)}\0clean\n\0\n`
  assert.deepEqual(scanCommitMessages(scanner as never, log), [{file: '(commit message)', line: 3, pattern: 'AWS Access ID', severity: 'critical', commit: 'b'.repeat(40)}])
})

test('scanDiff: a merge\'s combined diff (a line in neither parent or in only one is scanned); a hunk is read to its counts, so content that looks like a header is still scanned', () => {
  const scanner = {scanTextForDlp: (t: string) => ({matches: t.includes(AWS_KEY) ? [{pattern: 'AWS Access ID', severity: 'critical' as const, core: true, encoding: '', warn: false}] : [], warnings: []})}
  const merge = 'd'.repeat(40)
  const plain = 'e'.repeat(40)
  const diff = [
    `commit ${merge}`, '',
    'diff --cc conf.txt', 'index 6178079,7898192..ef234bd', '--- a/conf.txt', '+++ b/conf.txt',
    // parent 1: keep, b, the last line; parent 2: keep, a, the line before it.
    '@@@ -1,3 -1,3 +1,5 @@@', '  keep', '- b', ' -a',
    `+++ b/${AWS_KEY}`, // "+ b/<key>", added by the merge: content, not a file header
    `++K=${AWS_KEY}`,
    `+ FROM_SECOND=${AWS_KEY}`,
    ` +FROM_FIRST=${AWS_KEY} # pipelock:ignore`,
    `commit ${plain}`, '',
    'diff --git a/y.txt b/y.txt', '--- a/y.txt', '+++ b/y.txt', '@@ -1 +1,2 @@', '-old',
    `+++ b/${AWS_KEY}`, // "++ b/<key>" added in an ordinary commit
    '+last', '\\ No newline at end of file', '',
  ].join('\n')
  assert.deepEqual(scanDiff(scanner as never, diff).map((f) => `${f.commit?.[0]} ${f.file}:${f.line}`), ['d conf.txt:2', 'd conf.txt:3', 'd conf.txt:4', 'e y.txt:1'])
})

test('scanPush: a diff over the size limit refuses the push unscanned (GIT_SCAN_FAILED), saying why', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-git-unit-'))
  const git = gitIn(dir)
  try {
    git(['init', '-q', '-b', 'main'])
    writeFileSync(path.join(dir, 'big.txt'), 'x'.repeat(4096) + '\n')
    git(['add', '.'])
    git(['commit', '-q', '-m', 'big'])
    const head = git(['rev-parse', 'HEAD']).toString().trim()
    const scanner = {scanTextForDlp: () => ({matches: [], warnings: []})}
    const refs = [{localRef: 'refs/heads/main', localId: head, remoteRef: 'refs/heads/main', remoteId: ZERO}]
    const cfg = load('').config
    assert.equal(scanPush(cfg, scanner as never, refs, {cwd: dir}).blocked, false)
    assert.throws(() => scanPush(cfg, scanner as never, refs, {cwd: dir, maxDiffBytes: 1024}), (e: unknown) => {
      assert.ok(e instanceof PipelockError)
      assert.equal(e.code, 'GIT_SCAN_FAILED')
      assert.equal(e.message, `git log ${head} --not --remotes: the pushed commits' diff is larger than 1024 bytes, the most the hook scans; the push is refused unscanned (push fewer commits at a time, or keep files this large out of git)`)
      return true
    })
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('scanPush: the commits as pushed, whatever the repository configures for git log (log.showRoot, replace refs, diff.noprefix)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-git-unit-'))
  const git = gitIn(dir)
  try {
    git(['init', '-q', '-b', 'main'])
    for (const [k, v] of [['log.showRoot', 'false'], ['diff.noprefix', 'true']]) git(['config', k!, v!])
    writeFileSync(path.join(dir, 'first.env'), `KEY=${AWS_KEY}\n`)
    git(['add', '.'])
    git(['commit', '-q', '-m', 'root'])
    const root = git(['rev-parse', 'HEAD']).toString().trim()
    mkdirSync(path.join(dir, 'b'))
    writeFileSync(path.join(dir, 'b', 'second.env'), `KEY=${AWS_KEY}\n`)
    git(['add', '.'])
    git(['commit', '-q', '-m', 'second'])
    const second = git(['rev-parse', 'HEAD']).toString().trim()
    // A replacement makes `git log` show a clean commit in place of the one that is pushed.
    git(['commit', '-q', '--allow-empty', '-m', 'clean'])
    git(['replace', second, git(['rev-parse', 'HEAD']).toString().trim()])
    git(['reset', '-q', '--hard', second])
    const scanner = {scanTextForDlp: (t: string) => ({matches: t.includes(AWS_KEY) ? [{pattern: 'AWS Access ID', severity: 'critical' as const, core: true, encoding: '', warn: false}] : [], warnings: []})}
    const s = scanPush(load('').config, scanner as never, [{localRef: 'refs/heads/main', localId: second, remoteRef: 'refs/heads/main', remoteId: ZERO}], {cwd: dir})
    assert.deepEqual(s.refs[0]!.findings.map((f) => `${f.commit} ${f.file}:${f.line}`), [`${second} b/second.env:1`, `${root} first.env:1`])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('receive-pack: ref updates, whole blobs, deltas rebuilt from the same pack, a thin pack\'s inserts', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-git-unit-'))
  const git = gitIn(dir)
  try {
    git(['init', '-q', '-b', 'main'])
    const body = Array.from({length: 400}, (_, i) => `line ${i} of a configuration file that is long enough to delta`).join('\n') + '\n'
    writeFileSync(path.join(dir, 'app.conf'), body)
    git(['add', '.'])
    git(['commit', '-q', '-m', 'one'])
    const first = git(['rev-parse', 'HEAD']).toString().trim()
    writeFileSync(path.join(dir, 'app.conf'), body.replace('line 200 of', `aws_access_key_id=${AWS_KEY} line 200 of`))
    git(['commit', '-q', '-am', 'two'])
    const second = git(['rev-parse', 'HEAD']).toString().trim()
    const request = (pack: Buffer): Buffer => {
      const cmd = `${ZERO} ${second} refs/heads/main\0 report-status\n`
      return Buffer.concat([Buffer.from((cmd.length + 4).toString(16).padStart(4, '0') + cmd), Buffer.from('0000'), pack])
    }
    const full = parseReceivePack(request(git(['pack-objects', '--stdout', '--revs'], `${second}\n`)))
    assert.deepEqual(full.updates, [{oldId: ZERO, newId: second, ref: 'refs/heads/main'}])
    assert.equal(full.error, '')
    assert.equal(full.unresolved, 0)
    assert.ok(full.blobs.some((b) => b.toString().includes(AWS_KEY)), 'the changed blob (whole or rebuilt from its delta) carries the key')
    const thin = parseReceivePack(request(git(['pack-objects', '--stdout', '--revs', '--thin'], `${second}\n^${first}\n`)))
    assert.equal(thin.error, '')
    assert.ok(thin.blobs.some((b) => b.toString().includes(AWS_KEY)), 'a thin delta\'s inserted bytes are scanned')
    const cut = parseReceivePack(request(git(['pack-objects', '--stdout', '--revs'], `${second}\n`)).subarray(0, 200))
    assert.notEqual(cut.error, '')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('a key split by NUL bytes inside a binary file is found by the hook\'s diff scan and by the proxy\'s pack check (the real scanner)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-git-unit-'))
  const git = gitIn(dir)
  try {
    git(['init', '-q', '-b', 'main'])
    // PNG-like bytes, then the key cut by NUL twice, with bytes that are not UTF-8 on both sides.
    const blob = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]), Buffer.from(AWS_KEY.slice(0, 6)), Buffer.from([0]), Buffer.from(AWS_KEY.slice(6, 12)), Buffer.from([0]), Buffer.from(AWS_KEY.slice(12)), Buffer.from([0xfe, 0x00, 0x0a])])
    writeFileSync(path.join(dir, 'logo.bin'), blob)
    git(['add', '.'])
    git(['commit', '-q', '-m', 'logo'])
    const head = git(['rev-parse', 'HEAD']).toString().trim()
    const config = load('').config
    const scanner = createScanner(scannerSettingsFromConfig(config, {env: {}}))
    const s = scanPush(config, scanner, [{localRef: 'refs/heads/main', localId: head, remoteRef: 'refs/heads/main', remoteId: ZERO}], {cwd: dir})
    assert.deepEqual(s.refs[0]!.findings.map((f) => `${f.file}:${f.line} ${f.pattern}`), ['logo.bin:1 AWS Access ID'])
    const cmd = `${ZERO} ${head} refs/heads/main\0 report-status\n`
    const body = Buffer.concat([Buffer.from((cmd.length + 4).toString(16).padStart(4, '0') + cmd), Buffer.from('0000'), git(['pack-objects', '--stdout', '--revs'], `${head}\n`)])
    const pack = checkReceivePack(scanner, body)
    assert.equal(pack.error, '')
    assert.deepEqual(pack.found, ['AWS Access ID'])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('receive-pack check: a pack whose content is over the scan cap is refused unscanned, never relayed half checked', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-git-unit-'))
  const git = gitIn(dir)
  try {
    git(['init', '-q', '-b', 'main'])
    writeFileSync(path.join(dir, 'a.txt'), 'x'.repeat(4000) + '\n')
    writeFileSync(path.join(dir, 'b.txt'), 'y'.repeat(4000) + '\n')
    git(['add', '.'])
    git(['commit', '-q', '-m', 'one'])
    const head = git(['rev-parse', 'HEAD']).toString().trim()
    const cmd = `${ZERO} ${head} refs/heads/main\0 report-status\n`
    const body = Buffer.concat([Buffer.from((cmd.length + 4).toString(16).padStart(4, '0') + cmd), Buffer.from('0000'), git(['pack-objects', '--stdout', '--revs'], `${head}\n`)])
    let scans = 0
    const clean = {scanTextForDlp: () => (scans++, {matches: []})} as unknown as Parameters<typeof checkReceivePack>[0]
    assert.deepEqual(checkReceivePack(clean, body).error, '', 'under the cap: read and scanned whole')
    assert.ok(scans > 0)
    const over = checkReceivePack(clean, body, 6000)
    assert.equal(over.error, 'its content exceeds 6000 bytes, the most a push is scanned for')
    assert.deepEqual(over.found, [])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('file sentry ignore patterns: basename globs; dir/** ignores anything named dir; **/x never matches', () => {
  const ig = ignoreMatcher(['node_modules/**', '*.log', '**/x.tmp'])
  assert.equal(ig('/w/node_modules'), true)
  assert.equal(ig('/w/a/node_modules'), true)
  assert.equal(ig('/w/build.log'), true)
  assert.equal(ig('/w/x.tmp'), false)
  assert.equal(ig('/w/src/app.ts'), false)
})

test('config: git_protection and file_sentry checks when enabled', () => {
  assertRefused('git_protection:\n  enabled: true\n  allowed_branches: ["main", "rel-[0-9"]\n', /invalid allowed_branches glob pattern "rel-\[0-9": syntax error in pattern/)
  assertRefused('git_protection:\n  enabled: true\n  blocked_commands: [""]\n', /empty blocked_commands entry/)
  assertRefused('file_sentry:\n  enabled: true\n', /file_sentry: watch_paths must be non-empty when enabled/)
  assertRefused('file_sentry:\n  enabled: true\n  watch_paths: [""]\n', /file_sentry: watch_paths\[0\] must not be empty/)
  assertRefused('file_sentry:\n  action: kill\n', /file_sentry: action "kill" must be warn or block/)
  assert.equal(load('git_protection:\n  enabled: true\nfile_sentry:\n  enabled: true\n  watch_paths: ["."]\n  action: block\n').config.file_sentry.action, 'block')
})
