import {test} from 'node:test'
import {spawn} from 'node:child_process'
import assert from 'node:assert/strict'
import fs, {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {createHash} from 'node:crypto'
import {installBundle, listBundles, loadRuleBundles, removeBundle, updateBundles, verifyBundles} from '../../../src/plugins/rules/index.js'
import {lockRulesDir, writeBundleDir} from '../../../src/plugins/rules/store.js'
import {keyPairFromSeed, signBytes} from '../../../src/plugins/signing/index.js'
import {inject} from '../../helpers/disk-faults.js'

// How an installed bundle is replaced (store.ts writeBundleDir): staged and fsynced, swapped in
// through `<name>.bak`; what a crash between the renames leaves, how readers treat it, and how
// the next rules command that takes the lock puts it right.

const key = keyPairFromSeed(createHash('sha256').update('rules-swap').digest())
const trusted = [{name: 'acme', public_key: key.publicKey.toString('hex')}]
const TOKEN_RULE = (regex: string) => `  - id: tok
    name: tok
    description: a token
    severity: high
    type: dlp
    status: stable
    confidence: high
    pattern:
      regex: "${regex}"
`
const bundleText = (name: string, version: string, regex: string) => `format_version: 1
name: ${name}
version: ${version}
author: Acme
description: test bundle
rules:
${TOKEN_RULE(regex)}`

type Hooks = {after: (fn: () => void) => void}

/** A temp dir with `rules/` and a writer of signed source bundles under `src/`. */
function setup(t: Hooks) {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-swap-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const rulesDir = path.join(dir, 'rules')
  let n = 0
  const source = (name: string, version: string, regex: string): string => {
    const src = path.join(dir, `src-${n++}`)
    mkdirSync(src)
    const text = bundleText(name, version, regex)
    writeFileSync(path.join(src, 'bundle.yaml'), text)
    writeFileSync(path.join(src, 'bundle.yaml.sig'), signBytes(key, Buffer.from(text)).toString('base64') + '\n')
    return src
  }
  const install = (src: string) => installBundle({rulesDir, path: src, allowUnsigned: false, trusted, keyring: []})
  const load = () => loadRuleBundles({rules_dir: rulesDir, min_confidence: 'medium', include_experimental: false, disabled: [], trusted_keys: trusted}, {keyring: []})
  const entries = () => readdirSync(rulesDir).sort()
  return {dir, rulesDir, source, install, load, entries}
}

/** An installed acme-rules v1 left as a crash between writeBundleDir's renames leaves it: only `acme-rules.bak`. */
function interruptedInstall(t: Hooks) {
  const s = setup(t)
  s.install(s.source('acme-rules', '2026.3.1', 'acme_tok_[0-9]{6}'))
  renameSync(path.join(s.rulesDir, 'acme-rules'), path.join(s.rulesDir, 'acme-rules.bak'))
  return s
}

const NOTE = /^read from acme-rules\.bak: an install or update of it was cut short; the next pipelock rules install, update or remove puts it back/

test('an install cut short between its renames is put back by the next install, and its rules load again', (t) => {
  const s = interruptedInstall(t)
  mkdirSync(path.join(s.rulesDir, '.stage-acme-rules-0badc0de'))
  writeFileSync(path.join(s.rulesDir, '.stage-acme-rules-0badc0de', 'bundle.yaml'), 'half')
  // The next command that takes the lock installs another bundle; it first restores acme-rules.
  s.install(s.source('other-rules', '2026.3.1', 'other_tok_[0-9]{6}'))
  assert.deepEqual(s.entries(), ['acme-rules', 'other-rules'])
  const loaded = s.load()
  assert.deepEqual(loaded.errors, [])
  assert.deepEqual(loaded.warnings, [])
  assert.deepEqual(loaded.dlp.map((p) => p.name), ['acme-rules:tok', 'other-rules:tok'])
})

test('after an interrupted swap the republish check still sees the installed version', (t) => {
  const s = interruptedInstall(t)
  // Same version, other bytes: refused because the lock of the restored bundle is checked, not
  // installed over a bundle that only existed as .bak (whose only copy would then be deleted).
  assert.throws(() => s.install(s.source('acme-rules', '2026.3.1', 'acme_other_[0-9]{6}')), {message: 'bundle v2026.3.1 already installed with different digest (possible republish attack)'})
  assert.deepEqual(s.entries(), ['acme-rules'])
  assert.deepEqual(s.load().dlp.map((p) => p.name), ['acme-rules:tok'])
  assert.match(readFileSync(path.join(s.rulesDir, 'acme-rules', 'bundle.yaml'), 'utf8'), /acme_tok_/)
})

test('rules update and rules remove name a bundle left only as .bak: it is restored, then updated or removed', async (t) => {
  const u = interruptedInstall(t)
  const fetch = async (): Promise<Buffer> => assert.fail('a bundle installed from a local path is never fetched')
  const out = await updateBundles('acme-rules', {rulesDir: u.rulesDir, trusted, keyring: [], fetch})
  assert.deepEqual(out.map((o) => [o.name, o.status]), [['acme-rules', 'skipped']])
  assert.deepEqual(u.entries(), ['acme-rules'])

  const r = interruptedInstall(t)
  removeBundle(r.rulesDir, 'acme-rules')
  assert.deepEqual(r.entries(), [])
  assert.deepEqual(r.load().bundles, [])
})

test('a .bak beside a complete bundle and a stale stage are removed by the next rules command', async (t) => {
  const s = setup(t)
  s.install(s.source('acme-rules', '2026.3.1', 'acme_tok_[0-9]{6}'))
  // The swap completed but the removal of the old copy was lost; an unrelated install never got to its swap.
  cpSync(path.join(s.rulesDir, 'acme-rules'), path.join(s.rulesDir, 'acme-rules.bak'), {recursive: true})
  mkdirSync(path.join(s.rulesDir, '.stage-other-rules-12345678'))
  writeFileSync(path.join(s.rulesDir, '.stage-other-rules-12345678', 'bundle.yaml'), '')
  const out = await updateBundles(undefined, {rulesDir: s.rulesDir, trusted, keyring: []})
  assert.deepEqual(out.map((o) => [o.name, o.status]), [['acme-rules', 'skipped']])
  assert.deepEqual(s.entries(), ['acme-rules'])
  assert.deepEqual(s.load().dlp.map((p) => p.name), ['acme-rules:tok'])
})

test('readers without the lock read a bundle left only as .bak as that bundle, and say so', (t) => {
  const s = interruptedInstall(t)
  const loaded = s.load()
  assert.deepEqual(loaded.dlp.map((p) => p.name), ['acme-rules:tok'])
  assert.deepEqual(loaded.bundles.map((b) => [b.name, b.version]), [['acme-rules', '2026.3.1']])
  assert.deepEqual(loaded.errors, [])
  assert.equal(loaded.warnings.length, 1)
  assert.equal(loaded.warnings[0]!.name, 'acme-rules')
  assert.match(loaded.warnings[0]!.reason, NOTE)
  const [v] = verifyBundles(s.rulesDir, {trusted, keyring: []})
  assert.equal(v!.name, 'acme-rules')
  assert.equal(v!.ok, true)
  assert.match(v!.detail, /^signature OK; read from acme-rules\.bak: /)
  assert.deepEqual(listBundles(s.rulesDir).map((b) => [b.name, b.version, b.interrupted]), [['acme-rules', '2026.3.1', true]])
  // Reading changes nothing on disk: only a command holding the lock recovers.
  assert.deepEqual(s.entries(), ['acme-rules.bak'])
  // A .bak beside its bundle is a spare old copy: read once, from the bundle, without a warning.
  cpSync(path.join(s.rulesDir, 'acme-rules.bak'), path.join(s.rulesDir, 'acme-rules'), {recursive: true})
  const both = s.load()
  assert.deepEqual(both.bundles.map((b) => b.name), ['acme-rules'])
  assert.deepEqual(both.warnings, [])
})

test('a crash before the new bundle is renamed in keeps the only copy of an interrupted bundle', (t) => {
  const s = interruptedInstall(t)
  // writeBundleDir called as after a crash that no recovery has seen yet, dying before its
  // stage is renamed in: the .bak, the only copy of acme-rules, must still be there.
  const restore = inject(t, 'renameSync', (real) => ((from: fs.PathLike, to: fs.PathLike) => {
    if (path.basename(String(from)).startsWith('.stage-')) throw new Error('simulated crash')
    real(from, to)
  }) as typeof fs.renameSync)
  const lock = {installed_version: '2026.4.1', installed_at: '', source: 'local:x', last_check: '', bundle_sha256: '', signer_fingerprint: '', unsigned: true}
  assert.throws(() => writeBundleDir(s.rulesDir, 'acme-rules', Buffer.from(bundleText('acme-rules', '2026.4.1', 'x')), undefined, lock), {message: 'simulated crash'})
  restore()
  assert.ok(existsSync(path.join(s.rulesDir, 'acme-rules.bak', 'bundle.yaml')))
  // The next command restores it.
  s.install(s.source('other-rules', '2026.3.1', 'other_tok_[0-9]{6}'))
  assert.deepEqual(s.entries(), ['acme-rules', 'other-rules'])
  assert.deepEqual(s.load().dlp.map((p) => p.name), ['acme-rules:tok', 'other-rules:tok'])
})

test('an install fsyncs every staged file and the stage before the swap, and the rules directory after it', (t) => {
  const s = setup(t)
  s.install(s.source('acme-rules', '2026.3.1', 'acme_tok_[0-9]{6}'))
  const events: string[] = []
  const opened = new Map<number, string>()
  const rel = (p: fs.PathLike): string => path.relative(s.rulesDir, String(p)).replace(/\.stage-acme-rules-[0-9a-f]+/, 'STAGE') || '.'
  inject(t, 'openSync', (real) => ((p: fs.PathLike, ...rest: unknown[]) => {
    const fd = (real as (...a: unknown[]) => number)(p, ...rest)
    opened.set(fd, rel(p))
    return fd
  }) as typeof fs.openSync)
  inject(t, 'fsyncSync', (real) => ((fd: number) => {
    events.push(`fsync ${opened.get(fd)}`)
    real(fd)
  }) as typeof fs.fsyncSync)
  inject(t, 'renameSync', (real) => ((from: fs.PathLike, to: fs.PathLike) => {
    events.push(`rename ${rel(from)} ${rel(to)}`)
    real(from, to)
  }) as typeof fs.renameSync)
  s.install(s.source('acme-rules', '2026.4.1', 'acme_new_[0-9]{6}'))
  assert.deepEqual(events, [
    'fsync STAGE/bundle.yaml',
    'fsync STAGE/bundle.yaml.sig',
    'fsync STAGE/bundle.lock',
    'fsync STAGE',
    'rename acme-rules acme-rules.bak',
    'rename STAGE acme-rules',
    'fsync .',
  ])
  assert.deepEqual(s.entries(), ['acme-rules'])
  assert.deepEqual(s.load().bundles.map((b) => b.version), ['2026.4.1'])
})

test('the rules lock: a live command keeps others out; a lock naming this process\'s pid that it never took (a reused pid) is taken over', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-rules-lock-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const lock = path.join(dir, '.rules.lock')
  const release = lockRulesDir(dir)
  assert.equal((JSON.parse(readFileSync(lock, 'utf8')) as {pid: number}).pid, process.pid)
  assert.throws(() => lockRulesDir(dir), /another rules command is running/)
  release()
  assert.equal(existsSync(lock), false)
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {stdio: 'ignore'})
  t.after(() => child.kill('SIGKILL'))
  writeFileSync(lock, `${child.pid}\n`)
  assert.throws(() => lockRulesDir(dir), /another rules command is running/)
  writeFileSync(lock, `${process.pid}\n`)
  lockRulesDir(dir)()
  assert.equal(existsSync(lock), false)
})
