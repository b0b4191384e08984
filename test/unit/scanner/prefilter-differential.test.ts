/** §25.10: the DLP pre-filters (RE2::Set and alternation) are optimisations only — verdicts are identical without them. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createDlpEngine, createUrlScanner, defaultScannerSettings, RateLimiter, scanTextForDlp, scanUrl} from '../../../src/plugins/scanner/index.js'
import {alnum, anthropicKey, awsKeyId, githubToken, j, prng} from './fixtures.js'

test('pre-filter on vs off: same URL results and same text findings', async () => {
  const settings = defaultScannerSettings()
  settings.maxRequestsPerMinute = 1_000_000
  settings.dlp.patterns = [{name: 'Anchored', severity: 'high', regex: '^start-[0-9]{6}$'}, {name: 'Warned', severity: 'low', regex: 'warn-[a-z]{5}', action: 'warn'}]
  const on = createDlpEngine(settings)
  const off = {...on, corePrefilter: null, allPrefilter: null, allSet: null}
  const scOn = createUrlScanner(settings, on)
  const scOff = createUrlScanner(settings, off)
  const ctx = {resolver: async () => ['93.184.216.34'], rateLimiter: new RateLimiter({nowNanos: () => 0n})}
  const r = prng(99)
  const pieces = [anthropicKey(1), awsKeyId(2), githubToken(3), 'start-123456', 'warn-abcde', '123-45-6789', '4111 1111 1111 1111', 'password=hunter22', j('xo', 'xb-', alnum(20)), 'hello', 'a=b', '%2F', '.', '/']
  const pick = () => pieces[Math.floor(r() * pieces.length)]!
  for (let i = 0; i < 400; i++) {
    const parts = Array.from({length: 1 + Math.floor(r() * 4)}, pick)
    const url = `https://example.com/${encodeURIComponent(parts[0]!)}?a=${encodeURIComponent(parts.slice(1).join(''))}&b=${encodeURIComponent(pick())}&c=${encodeURIComponent(pick())}`
    const [a, b] = [await scanUrl(url, {...ctx, scanner: scOn}), await scanUrl(url, {...ctx, scanner: scOff})]
    assert.deepEqual(a, b, url)
    const text = parts.join(r() < 0.5 ? ' ' : '\n')
    assert.deepEqual(scanTextForDlp(on, text), scanTextForDlp(off, text), text)
  }
})
