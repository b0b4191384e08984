import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {createHash} from 'node:crypto'
import {keyPairFromSeed, signBytes} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {baseConfig, rawHttp, startHttpUpstream, startProxy, tempDir, type Upstream} from './proxy-harness.js'
import {acmeBundle} from './rules-fixtures.js'

// Community rule bundles through the built CLI (scanners-extra.md §5): a bundle signed in the
// test with a key listed in rules.trusted_keys installs, lists, verifies and its DLP rule blocks
// a request through the proxy; a tampered bundle is refused at install and, tampered after
// install, fails verification and never loads.

const signer = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-rules-signer').digest())
const other = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-rules-other').digest())
const TOKEN = ['acme', 'tok', '0123456789abcdef'].join('_') // assembled at run time

const BUNDLE = `${acmeBundle('2026.1.0')}  - id: acme-guess
    type: dlp
    status: stable
    name: Acme maybe-token
    description: Low-confidence shape, filtered out by min_confidence medium
    severity: low
    confidence: low
    pattern:
      regex: 'acme_maybe_[0-9]{4}'
`

function writeBundle(dir: string, text: string, key = signer): void {
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'bundle.yaml'), text)
  writeFileSync(path.join(dir, 'bundle.yaml.sig'), signBytes(key, Buffer.from(text)).toString('base64') + '\n')
}

describe('pipelock rules: signed community bundles', () => {
  let up: Upstream
  let dir = ''
  let cfgFile = ''
  let rulesDir = ''
  before(async () => {
    up = await startHttpUpstream()
    dir = tempDir('pipelock-rules-')
    rulesDir = path.join(dir, 'rules')
    cfgFile = path.join(dir, 'pipelock.yaml')
    writeFileSync(
      cfgFile,
      baseConfig(
        [
          'ssrf:',
          '  ip_allowlist: ["127.0.0.1/32"]',
          'rules:',
          `  rules_dir: ${JSON.stringify(rulesDir)}`,
          '  trusted_keys:',
          '    - name: acme',
          `      public_key: ${signer.publicKey.toString('hex')}`,
        ].join('\n'),
      ),
    )
  })
  after(async () => {
    await up.close()
    rmSync(dir, {recursive: true, force: true})
  })

  test('tampered or foreign-signed bundles are refused; a valid one installs, lists, verifies and blocks', async () => {
    const good = path.join(dir, 'src-good')
    writeBundle(good, BUNDLE)
    const tampered = path.join(dir, 'src-tampered')
    cpSync(good, tampered, {recursive: true})
    writeFileSync(path.join(tampered, 'bundle.yaml'), BUNDLE.replace('[0-9a-f]{16}', '[0-9a-f]{15}'))
    const foreign = path.join(dir, 'src-foreign')
    writeBundle(foreign, BUNDLE, other)

    for (const [src, what] of [[tampered, 'tampered'], [foreign, 'signed by an untrusted key']] as const) {
      const r = runCli(['rules', 'install', '--path', src, '--config', cfgFile])
      assert.equal(r.status, 1, what)
      assert.equal(r.stderr.split('\n')[0], `${path.join(src, 'bundle.yaml')}: no matching signer found for bundle [RULES_BUNDLE_INVALID]`, what)
    }
    const empty = runCli(['rules', 'list', '--config', cfgFile, '--json'])
    assert.equal(empty.status, 0, empty.stderr)
    assert.deepEqual(JSON.parse(empty.stdout).bundles, [])

    const ins = runCli(['rules', 'install', '--path', good, '--config', cfgFile])
    assert.equal(ins.status, 0, ins.stderr)
    assert.equal(ins.stdout, `Installed acme-rules v2026.1.0 (third-party)\n  2 rules, signer: ${signer.publicKey.toString('hex').slice(0, 16)}...\n`)
    const again = runCli(['rules', 'install', '--path', good, '--config', cfgFile])
    assert.equal(again.stdout, 'bundle already installed at v2026.1.0 with same digest (skipping)\n')

    const list = runCli(['rules', 'list', '--config', cfgFile, '--json'])
    const listed = JSON.parse(list.stdout).bundles
    assert.equal(listed.length, 1)
    assert.deepEqual({name: listed[0].name, version: listed[0].version, signed: listed[0].signed}, {name: 'acme-rules', version: '2026.1.0', signed: true})
    const ver = runCli(['rules', 'verify', '--config', cfgFile])
    assert.equal(ver.status, 0, ver.stderr)
    assert.equal(ver.stdout, 'OK    acme-rules (signature OK)\nAll 1 bundle(s) verified.\n')

    let proxy = await startProxy(readFileSync(cfgFile, 'utf8'), {dir})
    try {
      assert.match(proxy.stderr(), /pipelock: rules: bundle acme-rules v2026\.1\.0 \(third-party\): 1 DLP, 0 injection, 0 tool-poison rules/)
      const blocked = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/send?t=${TOKEN}`})
      assert.equal(blocked.status, 403)
      assert.equal(blocked.headers['x-pipelock-block-reason'], 'dlp_match')
      // the low-confidence rule was filtered out (min_confidence defaults to medium)
      const low = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/send?t=acme_maybe_1234`})
      assert.equal(low.status, 200)
    } finally {
      assert.equal(await proxy.stop(), 0)
    }

    // Tampered after install: verify fails, and the proxy does not load it (the request passes).
    const installed = path.join(rulesDir, 'acme-rules', 'bundle.yaml')
    writeFileSync(installed, readFileSync(installed, 'utf8').replace('confidence: high', 'confidence: medium'))
    const bad = runCli(['rules', 'verify', '--config', cfgFile])
    assert.equal(bad.status, 1)
    assert.match(bad.stdout, /^FAIL {2}acme-rules: integrity check: SHA-256 mismatch: /)
    assert.equal(bad.stderr.split('\n')[0], '1 bundle(s) failed verification [RULES_BUNDLE_INVALID]')
    // With --json, a good bundle beside the tampered one: the per-bundle results say which failed and why, exit 1.
    const beta = path.join(dir, 'src-beta')
    writeBundle(beta, acmeBundle('2026.1.0', 'beta_tok_[0-9a-f]{16}').replace('name: acme-rules', 'name: beta-rules'))
    assert.equal(runCli(['rules', 'install', '--path', beta, '--config', cfgFile]).status, 0)
    const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex')
    const badJson = runCli(['rules', 'verify', '--config', cfgFile, '--json'])
    assert.equal(badJson.status, 1)
    assert.equal(badJson.stderr, '')
    assert.deepEqual(JSON.parse(badJson.stdout), {
      rulesDir,
      bundles: [
        {name: 'acme-rules', ok: false, detail: `integrity check: SHA-256 mismatch: lock says ${sha(path.join(good, 'bundle.yaml'))}, file is ${sha(installed)}`},
        {name: 'beta-rules', ok: true, detail: 'signature OK'},
      ],
      failed: 1,
    })
    assert.equal(runCli(['rules', 'remove', 'beta-rules', '--config', cfgFile]).status, 0)
    proxy = await startProxy(readFileSync(cfgFile, 'utf8'), {dir})
    try {
      assert.match(proxy.stderr(), /pipelock: warning: bundle acme-rules: integrity check: SHA-256 mismatch/)
      assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/send?t=${TOKEN}`})).status, 200)
    } finally {
      assert.equal(await proxy.stop(), 0)
    }

    const rm = runCli(['rules', 'remove', 'acme-rules', '--config', cfgFile])
    assert.equal(rm.status, 0, rm.stderr)
    assert.equal(rm.stdout, 'Removed acme-rules\n')
    const gone = runCli(['rules', 'remove', 'acme-rules', '--config', cfgFile])
    assert.equal(gone.status, 1)
    assert.equal(gone.stderr.split('\n')[0], 'bundle "acme-rules" is not installed [FILE_NOT_FOUND]')
  })

  test('a rules_dir that is a file, a lock file that does not parse, a bundle name that is none: one line each with its code', () => {
    const fileDir = path.join(dir, 'not-a-dir')
    writeFileSync(fileDir, 'x')
    const c = path.join(dir, 'file-dir.yaml')
    writeFileSync(c, baseConfig(['rules:', `  rules_dir: ${JSON.stringify(fileDir)}`, '  trusted_keys:', '    - name: acme', `      public_key: ${signer.publicKey.toString('hex')}`].join('\n')))
    const src = path.join(dir, 'src-file-dir')
    writeBundle(src, BUNDLE)
    const install = runCli(['rules', 'install', '--path', src, '--config', c])
    assert.equal(install.status, 1)
    assert.equal(install.stderr, `rules directory ${fileDir}: not a directory [WRITE_FAILED]; hint: rules.rules_dir names a directory (created on the first install)\n`)
    for (const sub of ['list', 'verify']) {
      for (const json of [[], ['--json']]) {
        const r = runCli(['rules', sub, '--config', c, ...json])
        assert.equal(r.status, 1, `${sub} ${r.stdout}${r.stderr}`)
        if (json.length === 0) assert.equal(r.stderr, `rules directory ${fileDir}: not a directory [FILE_UNREADABLE]; hint: rules.rules_dir names a directory (created on the first install)\n`)
        else assert.equal(JSON.parse(r.stdout).error.code, 'FILE_UNREADABLE')
      }
    }
    // A lock file that does not parse: verify says so, list does not call it missing.
    const broken = path.join(dir, 'broken-lock')
    const bc = path.join(dir, 'broken-lock.yaml')
    writeFileSync(bc, baseConfig(['rules:', `  rules_dir: ${JSON.stringify(broken)}`, '  trusted_keys:', '    - name: acme', `      public_key: ${signer.publicKey.toString('hex')}`].join('\n')))
    assert.equal(runCli(['rules', 'install', '--path', src, '--config', bc]).status, 0)
    writeFileSync(path.join(broken, 'acme-rules', 'bundle.lock'), '{x\n')
    const v = runCli(['rules', 'verify', '--config', bc])
    assert.notEqual(v.status, 0)
    assert.match(v.stdout + v.stderr, /acme-rules: reading lock file: bundle\.lock is not valid YAML: /)
    assert.ok(!(v.stdout + v.stderr).includes('MISSING_CHAR'), v.stdout + v.stderr)
    assert.match(runCli(['rules', 'list', '--config', bc]).stdout, /acme-rules .*\(unreadable lock file: rules verify says why\)/)
    const bad = runCli(['rules', 'remove', '../acme-rules', '--config', bc])
    assert.equal(bad.status, 2)
    assert.equal(bad.stderr.split('\n')[0], '"../acme-rules" is not a bundle name (3 to 64 of a-z, 0-9 and -, starting and ending with a letter or digit) [USAGE]')
  })

  test('rules config errors are the same for check and run', () => {
    const c = path.join(dir, 'bad.yaml')
    writeFileSync(c, baseConfig(['rules:', '  min_confidence: extreme'].join('\n')))
    for (const args of [['check', '--config', c], ['run', '--config', c, '--listen', '127.0.0.1:0']]) {
      const r = runCli(args)
      assert.notEqual(r.status, 0, args[0])
      assert.match(r.stdout + r.stderr, /rules: min_confidence "extreme" must be high, medium, or low/, args[0])
    }
  })
})

test('pipelock rules install: a full disk mid-install leaves the installed bundle and no half-written stage', () => {
  const dir = tempDir('pipelock-rules-disk-')
  try {
    const rulesDir = path.join(dir, 'rules')
    const cfgFile = path.join(dir, 'pipelock.yaml')
    writeFileSync(cfgFile, baseConfig(['rules:', `  rules_dir: ${JSON.stringify(rulesDir)}`, '  trusted_keys:', '    - name: acme', `      public_key: ${signer.publicKey.toString('hex')}`].join('\n')))
    const small = path.join(dir, 'src-small')
    writeBundle(small, BUNDLE)
    assert.equal(runCli(['rules', 'install', '--path', small, '--config', cfgFile]).status, 0)
    const installed = readFileSync(path.join(rulesDir, 'acme-rules', 'bundle.yaml'))
    // A newer version padded past the file size limit: its bundle.yaml cannot be staged whole.
    const big = path.join(dir, 'src-big')
    writeBundle(big, acmeBundle('2026.2.0') + `# ${'x'.repeat(8192)}\n`)
    const r = runCli(['rules', 'install', '--path', big, '--config', cfgFile], {fileSizeLimitKiB: 4})
    assert.equal(r.status, 1)
    assert.equal(r.stderr, `installing acme-rules into ${rulesDir}: file too large; nothing was changed [WRITE_FAILED]\n`)
    assert.deepEqual(readdirSync(rulesDir).filter((n) => n !== '.lock').sort(), ['acme-rules'])
    assert.deepEqual(readFileSync(path.join(rulesDir, 'acme-rules', 'bundle.yaml')), installed)
    const ver = runCli(['rules', 'verify', '--config', cfgFile])
    assert.equal(ver.stdout, 'OK    acme-rules (signature OK)\nAll 1 bundle(s) verified.\n')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

