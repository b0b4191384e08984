import {before, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {recordRun, steppingClock} from '../helpers/recorder-fixture.js'
import {encodePublicKeyText, keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {decodePng, pixelStats} from '../helpers/png.js'
import {repoPath} from '../helpers/vectors.js'

// `pipelock audit report` rendered by a real browser: Debian's Chromium, headless, offline
// (installed by scripts/ensure-chromium.sh; a machine where it cannot be installed fails this
// test — it is never skipped). The screenshot must show the page (not blank, the green "valid"
// banner), and the numbers the browser rendered must be the ones verify-receipt --json reports.

const key = keyPairFromSeed(sha256('pipelock-audit-report-test'))
const dir = mkdtempSync(path.join(tmpdir(), 'pl-audit-report-'))
const evidence = path.join(dir, 'evidence')
const pubFile = path.join(dir, 'receipt.pub')

before(async () => {
  writeFileSync(pubFile, encodePublicKeyText(key.publicKey))
  const decisions = Array.from({length: 40}, (_, i) => {
    const block = i % 5 === 2
    return {
      method: i % 3 === 0 ? 'POST' : 'GET',
      // an attacker-chosen target must come out escaped, never as markup
      target: i === 7 ? 'https://evil.example/<script>alert(1)</script>' : `https://api${i % 4}.example.com/v1/items`,
      transport: 'fetch',
      verdict: block ? 'block' : i % 7 === 0 ? 'warn' : 'allow',
      ...(block ? {layer: i % 2 === 0 ? 'dlp' : 'blocklist', pattern: 'rule-' + (i % 3)} : {}),
    }
  })
  await recordRun({dir: evidence, key, clock: steppingClock(1_790_000_000_000_000_000n, 7_000_000_000n), run: 1, decisions})
})

function chromium(): string {
  const r = spawnSync('sh', [repoPath('scripts', 'ensure-chromium.sh')], {encoding: 'utf8', timeout: 600_000})
  assert.equal(r.status, 0, `Chromium is required for this test and could not be installed: ${r.stderr}`)
  return r.stdout.trim()
}

function browse(browser: string, mode: string[], html: string): string {
  const profile = mkdtempSync(path.join(tmpdir(), 'pl-chromium-profile-'))
  const r = spawnSync(
    browser,
    [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--window-size=1200,1400', ...mode, `file://${html}`,
    ],
    {encoding: 'utf8', timeout: 120_000},
  )
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
}

test('audit report: one offline HTML file; Chromium renders it; its numbers match verify-receipt --json', () => {
  const html = path.join(dir, 'report.html')
  const rep = runCli(['audit', 'report', '--chain', evidence, '--key', pubFile, '--out', html, '--json'])
  assert.equal(rep.status, 0, rep.stdout + rep.stderr)
  const data = JSON.parse(rep.stdout)
  const verified = JSON.parse(runCli(['verify-receipt', evidence, '--key', pubFile, '--json']).stdout)
  assert.equal(data.verdict, 'valid')
  assert.deepEqual(data.byVerdict, verified.counts.byVerdict)
  assert.equal(data.receiptCount, verified.receiptCount)
  assert.equal(data.blocks.length, verified.counts.byVerdict.block)

  const text = readFileSync(html, 'utf8')
  assert.ok(!/<script|https?:\/\/(?!evil\.example|api\d)|src=|@import/i.test(text.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')), 'the page loads nothing and runs nothing')
  assert.ok(text.includes('&#60;script&#62;alert(1)&#60;/script&#62;'), 'a hostile target is escaped')
  assert.match(text, /<svg [^>]*role="img"/)

  const browser = chromium()
  const dom = browse(browser, ['--dump-dom'], html)
  const num = (id: string): number => Number(new RegExp(`data-testid="${id}">(\\d+)<`).exec(dom)?.[1])
  assert.equal(num('receipt-count'), verified.receiptCount)
  assert.equal(num('decision-count'), Object.values(verified.counts.byVerdict as Record<string, number>).reduce((s, n) => s + n, 0))
  for (const [v, n] of Object.entries(verified.counts.byVerdict as Record<string, number>)) assert.equal(num(`verdict-${v}`), n, v)
  assert.match(dom, /data-verdict="valid"/)
  const blockRows = /data-testid="blocks">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(dom)?.[1]?.match(/<tr>/g)?.length
  assert.equal(blockRows, verified.counts.byVerdict.block)

  const png = path.join(dir, 'report.png')
  browse(browser, [`--screenshot=${png}`], html)
  const stats = pixelStats(decodePng(readFileSync(png)), [0x2e, 0x7d, 0x32])
  assert.ok(stats.nonBackground > 0.05, `screenshot looks blank (${(stats.nonBackground * 100).toFixed(1)}% non-background)`)
  assert.ok(stats.matching > 5_000, `the green "valid" banner is not on the screenshot (${stats.matching} pixels)`)
})
