/** §10.4: no result field, detail, hint or error ever carries a matched secret. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {createScanner, defaultScannerSettings, loadSecretsFile, parseSecretsFile, RateLimiter, collectEnvSecrets} from '../../../src/plugins/scanner/index.js'
import {alnum, anthropicKey, awsKeyId, githubToken, j, wif} from './fixtures.js'

const SECRETS = [anthropicKey(21), awsKeyId(22), githubToken(23), wif(true), j('Zx', alnum(30, 24))]

function assertNoSecret(value: unknown, where: string): void {
  const s = JSON.stringify(value)
  for (const secret of SECRETS) {
    for (const piece of [secret, secret.slice(4, 16), Buffer.from(secret).toString('base64').slice(0, 16)]) {
      assert.ok(!s.includes(piece), `${where}: leaked a secret fragment`)
    }
  }
}

test('URL, text, body, header results never carry the secret', async () => {
  const settings = defaultScannerSettings()
  settings.dlp.env = {MY_TOKEN: SECRETS[4]!}
  settings.blocklist = ['*.pastebin.com']
  const sc = createScanner(settings)
  const ctx = {resolver: async () => ['10.0.0.1'], rateLimiter: new RateLimiter({nowNanos: () => 0n})}
  for (const secret of SECRETS) {
    const urls = [
      `https://example.com/?k=${secret}`,
      `https://example.com/${secret}`,
      `https://${secret.slice(0, 30)}.example.com/`,
      `https://${secret.slice(0, 30)}.pastebin.com/`,
      `${secret.slice(0, 20).replace(/_/g, '-')}://x/`,
      `https://example.com/?${secret}=v`,
      `https://example.com/?k=${Buffer.from(secret).toString('base64')}`,
    ]
    for (const u of urls) assertNoSecret(await sc.scanUrl(u, ctx), u)
    assertNoSecret(sc.scanTextForDlp(`token ${secret}`), 'text')
    assertNoSecret(sc.scanRequestBody({contentType: 'application/json', body: Buffer.from(JSON.stringify({k: secret}))}), 'body')
    assertNoSecret(sc.scanRequestHeaders([['Authorization', `Bearer ${secret}`]]), 'headers')
  }
})

test('secrets file: parsing rules and unsafe modes; errors name the file, never its content', () => {
  const parsed = parseSecretsFile('\uFEFF# comment\n\nshort\nlong-enough-secret-1\r\nlong-enough-secret-1\n' + 'x'.repeat(5000) + '\n', 16)
  assert.deepEqual(parsed.secrets, ['long-enough-secret-1'])
  assert.deepEqual(parsed.tooShortLines, [3])
  const many = Array.from({length: 1200}, (_, i) => `secret-number-${String(i).padStart(6, '0')}`).join('\n')
  assert.equal(parseSecretsFile(many, 16).secrets.length, 1000)
  assert.equal(parseSecretsFile(many, 16).total, 1200)
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-secrets-'))
  const f = path.join(dir, 'secrets.txt')
  writeFileSync(f, `${SECRETS[0]}\n`)
  chmodSync(f, 0o600)
  assert.deepEqual(loadSecretsFile(f, 16).secrets, [SECRETS[0]])
  chmodSync(f, 0o644)
  assert.throws(() => loadSecretsFile(f, 16), (e: Error) => {
    assert.match(e.message, /unsafe permissions 644/)
    assertNoSecret({m: e.message, s: e.stack}, 'error')
    return true
  })
  assert.throws(() => loadSecretsFile(path.join(dir, 'missing'), 16), /cannot be read/)
  // More secrets than are looked for: refused, not cut short without a word.
  writeFileSync(f, many)
  chmodSync(f, 0o600)
  assert.throws(() => loadSecretsFile(f, 16), (e: Error) => {
    assert.equal(e.message, `dlp.secrets_file ${f} holds 1200 secrets; at most 1000 are looked for`)
    return true
  })
})

test('env secrets: skip list, prefixes, length and entropy thresholds', () => {
  const v = j('Kq', alnum(20, 31))
  assert.deepEqual(
    collectEnvSecrets({API_KEY: v, PATH: j('Pa', alnum(20, 32)), LC_ALL: j('Lc', alnum(20, 33)), xdg_x: j('Xd', alnum(20, 34)), SHORT: 'a1B2c3', FLAT: 'aaaaaaaaaaaaaaaaaaaaaaaa', UNDEF: undefined}, 16),
    [v],
  )
})
