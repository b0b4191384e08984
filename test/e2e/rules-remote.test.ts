import {describe, test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import https from 'node:https'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {createHash} from 'node:crypto'
import {keyPairFromSeed, signBytes} from '../../src/plugins/signing/index.js'
import {cleanEnv, runCliAsync} from '../helpers/fake-admin-api.js'
import {baseConfig, makeSelfSignedCert, tempDir} from './proxy-harness.js'
import {acmeBundle} from './rules-fixtures.js'

// Remote community rule bundles through the built CLI (scanners-extra.md §5.7) against a local
// HTTPS server whose certificate the CLI trusts through NODE_EXTRA_CA_CERTS: `rules install <URL>`
// verifies the signature at <URL>.sig before anything is written; `rules update` installs a newer
// signed version and keeps the installed bundle when the new one is tampered, foreign-signed,
// signed by another trusted key (no --allow-key-rotation), older, or republished.

const signer = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-rules-remote-signer').digest())
const rotated = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-rules-remote-rotated').digest())
const stranger = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-rules-remote-stranger').digest())

const bundle = acmeBundle
const sig = (text: string, key = signer): string => signBytes(key, Buffer.from(text)).toString('base64') + '\n'

describe('pipelock rules install <URL> and rules update', () => {
  let dir = ''
  let cfgFile = ''
  let rulesDir = ''
  let env: NodeJS.ProcessEnv = {}
  let server: https.Server
  let base = ''
  /** What the server answers, by path (a string body, or a redirect). */
  const routes = new Map<string, string | {location: string}>()
  const publish = (p: string, text: string, signature: string): void => {
    routes.set(p, text)
    routes.set(`${p}.sig`, signature)
  }

  before(async () => {
    dir = tempDir('pipelock-rules-remote-')
    rulesDir = path.join(dir, 'rules')
    cfgFile = path.join(dir, 'pipelock.yaml')
    writeFileSync(cfgFile, baseConfig([
      'rules:', `  rules_dir: ${JSON.stringify(rulesDir)}`, '  trusted_keys:',
      '    - name: acme', `      public_key: ${signer.publicKey.toString('hex')}`,
      '    - name: acme-next', `      public_key: ${rotated.publicKey.toString('hex')}`,
    ].join('\n')))
    const tls = makeSelfSignedCert(dir)
    server = https.createServer({key: tls.key, cert: tls.cert}, (req, res) => {
      const r = routes.get(req.url ?? '')
      if (r === undefined) {
        res.writeHead(404)
        res.end()
      } else if (typeof r === 'string') {
        res.writeHead(200, {'content-type': 'application/yaml'})
        res.end(r)
      } else {
        res.writeHead(302, {location: r.location})
        res.end()
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
    env = cleanEnv({NODE_EXTRA_CA_CERTS: tls.certPath, HOME: dir})
  })
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(dir, {recursive: true, force: true})
  })

  const cli = async (...args: string[]) => await runCliAsync(['rules', ...args, '--config', cfgFile], {env})
  const installedVersion = (): string => /installed_version: (\S+)/.exec(readFileSync(path.join(rulesDir, 'acme-rules', 'bundle.lock'), 'utf8'))![1]!

  test('install refuses a tampered bundle, plain HTTP and a redirect off HTTPS, writing nothing; a signed one installs', async () => {
    const v1 = bundle('2026.1.0')
    publish('/tampered/bundle.yaml', bundle('2026.1.0', 'acme_tok_[0-9a-f]{15}'), sig(v1))
    const t = await cli('install', `${base}/tampered/bundle.yaml`)
    assert.equal(t.status, 1)
    assert.equal(t.stderr.split('\n')[0], `${base}/tampered/bundle.yaml: no matching signer found for bundle [RULES_BUNDLE_INVALID]`)
    assert.ok(!existsSync(path.join(rulesDir, 'acme-rules')), 'nothing written')

    const plain = await cli('install', 'http://127.0.0.1:9/acme/bundle.yaml')
    assert.equal(plain.stderr.split('\n')[0], 'remote source must use HTTPS: http://127.0.0.1:9/acme/bundle.yaml [RULES_FETCH_FAILED]')
    routes.set('/moved/bundle.yaml', {location: 'http://127.0.0.1:9/acme/bundle.yaml'})
    const moved = await cli('install', `${base}/moved/bundle.yaml`)
    assert.equal(moved.stderr.split('\n')[0], 'redirect to non-HTTPS URL refused: http://127.0.0.1:9/acme/bundle.yaml [RULES_FETCH_FAILED]')
    const missing = await cli('install', `${base}/nowhere/bundle.yaml`)
    assert.equal(missing.stderr.split('\n')[0], `fetching ${base}/nowhere/bundle.yaml: HTTP 404 [RULES_FETCH_FAILED]`)
    assert.ok(!existsSync(path.join(rulesDir, 'acme-rules')), 'nothing written')

    publish('/acme/bundle.yaml', v1, sig(v1))
    const ok = await cli('install', `${base}/acme/bundle.yaml`)
    assert.equal(ok.status, 0, ok.stderr)
    assert.equal(ok.stdout, `Installed acme-rules v2026.1.0 (third-party)\n  1 rules, signer: ${signer.publicKey.toString('hex').slice(0, 16)}...\n`)
    assert.match(readFileSync(path.join(rulesDir, 'acme-rules', 'bundle.lock'), 'utf8'), new RegExp(`source: ${base.replace(/[.]/g, '\\.')}/acme/bundle\\.yaml`))
    const list = JSON.parse((await cli('list', '--json')).stdout).bundles
    assert.deepEqual([list[0].name, list[0].version, list[0].source], ['acme-rules', '2026.1.0', `${base}/acme/bundle.yaml`])
  })

  test('update: up to date, then a newer signed version; failing versions keep the installed bundle', async () => {
    const same = await cli('update')
    assert.equal(same.status, 0, same.stderr)
    assert.equal(same.stdout, 'acme-rules v2026.1.0: already up to date\n')

    const v2 = bundle('2026.2.0')
    publish('/acme/bundle.yaml', v2, sig(v2))
    const up = await cli('update', 'acme-rules')
    assert.equal(up.status, 0, up.stderr)
    assert.equal(up.stdout, 'Updated acme-rules: v2026.1.0 -> v2026.2.0\n')
    assert.equal(installedVersion(), '2026.2.0')

    const v3 = bundle('2026.3.0')
    const refusals: Array<[string, string, string]> = [
      ['tampered', bundle('2026.3.0', 'acme_tok_.*'), sig(v3)],
      ['signed by an untrusted key', v3, sig(v3, stranger)],
      ['signed by another trusted key', v3, sig(v3, rotated)],
      ['older', bundle('2026.1.5'), sig(bundle('2026.1.5'))],
      ['republished', bundle('2026.2.0', 'acme_tok_[0-9a-f]{20}'), sig(bundle('2026.2.0', 'acme_tok_[0-9a-f]{20}'))],
    ]
    const expected: Record<string, RegExp> = {
      'tampered': /no matching signer found for bundle/,
      'signed by an untrusted key': /no matching signer found for bundle/,
      'signed by another trusted key': /signer fingerprint mismatch: pinned "[0-9a-f]{64}", got "[0-9a-f]{64}" \(use --allow-key-rotation to permit key changes\)/,
      'older': /remote v2026\.1\.5 is older than installed v2026\.2\.0 \(use --force to downgrade\)/,
      'republished': /acme-rules v2026\.2\.0 was republished with a different digest \(possible republish attack; use --force to accept\)/,
    }
    const before = readFileSync(path.join(rulesDir, 'acme-rules', 'bundle.yaml'))
    for (const [what, text, signature] of refusals) {
      publish('/acme/bundle.yaml', text, signature)
      const r = await cli('update')
      assert.equal(r.status, 1, what)
      assert.match(r.stdout, /^FAIL {2}acme-rules: /, what)
      assert.match(r.stdout, expected[what]!, what)
      assert.equal(r.stderr.split('\n')[0], '1 bundle(s) failed to update [RULES_BUNDLE_INVALID]', what)
      assert.deepEqual(readFileSync(path.join(rulesDir, 'acme-rules', 'bundle.yaml')), before, `${what}: the installed bundle is unchanged`)
      assert.equal(installedVersion(), '2026.2.0', what)
    }
    // With --json the failed outcome and its reason are the output, exit 1 still.
    publish('/acme/bundle.yaml', v3, sig(v3, rotated))
    const failedJson = await cli('update', '--json')
    assert.equal(failedJson.status, 1)
    assert.equal(failedJson.stderr, '')
    const outcome = JSON.parse(failedJson.stdout) as {rulesDir: string; bundles: Array<{name: string; status: string; message: string}>; failed: number}
    assert.equal(outcome.rulesDir, rulesDir)
    assert.equal(outcome.failed, 1)
    assert.equal(outcome.bundles.length, 1)
    assert.deepEqual([outcome.bundles[0]!.name, outcome.bundles[0]!.status], ['acme-rules', 'failed'])
    assert.match(outcome.bundles[0]!.message, /^acme-rules: signer fingerprint mismatch: pinned "[0-9a-f]{64}", got "[0-9a-f]{64}" \(use --allow-key-rotation to permit key changes\)$/)
    const ver = await cli('verify')
    assert.equal(ver.stdout, 'OK    acme-rules (signature OK)\nAll 1 bundle(s) verified.\n')

    // A rotation to another trusted key is accepted when asked for.
    publish('/acme/bundle.yaml', v3, sig(v3, rotated))
    const rot = await cli('update', '--allow-key-rotation', '--json')
    assert.equal(rot.status, 0, rot.stderr)
    assert.deepEqual(JSON.parse(rot.stdout).bundles, [{name: 'acme-rules', status: 'updated', from: '2026.2.0', to: '2026.3.0', message: 'Updated acme-rules: v2026.2.0 -> v2026.3.0'}])
    assert.equal((await cli('verify')).status, 0)
  })
})
