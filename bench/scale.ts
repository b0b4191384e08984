/**
 * What size costs: a deployment's agent profiles, canary tokens, env secrets, DLP patterns and
 * allowlist hosts, each beside the same proxy or scanner without them, in the same run.
 *
 * - Start-up: `pipelock run` with the bench config (startup.ts) alone, with N agent profiles
 *   that change the mode and allowlist only, and with N profiles that each add a DLP pattern:
 *   spawn → banner, CPU at the first request, RSS 1 s later.
 * - Per request, in process: a URL scan (a new host each time) and a 2 KiB chat request's body scan, CPU µs per call,
 *   with the `balanced` preset and with 500 canary tokens, 100 env secrets, 1,000 DLP patterns,
 *   and (strict mode, URL scan) a 10,000-host `api_allowlist`; each as a ratio to the preset.
 */
import crypto from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {loadPresetConfig, type PipelockConfig} from '../src/plugins/config/index.js'
import {scannerSettingsFromConfig} from '../src/plugins/proxy/index.js'
import {createScanner, RateLimiter} from '../src/plugins/scanner/index.js'
import {cpuPerCall} from './cpu-per-call.js'
import {repoRoot} from './peer-processes.js'
import {BODY, median, PROXY_BENCH_CONFIG, range, startOnce, type Start} from './startup.js'

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

function profilesYaml(n: number, ownPattern: boolean): string {
  const lines = ['agents:']
  for (let i = 0; i < n; i++) {
    lines.push(`  agent${i}:`, '    mode: strict', `    api_allowlist: ["api${i}.example.com", "*.svc${i}.example.org"]`)
    if (ownPattern) lines.push('    dlp:', '      patterns:', `        - name: team ${i}`, `          regex: "team${i}_[A-Za-z0-9]{24}"`, '          severity: high')
  }
  return lines.join('\n') + '\n'
}

function randomB32(n: number): string {
  return Array.from(crypto.randomBytes(n), (b) => B32[b % 32]).join('')
}

/** The `balanced` preset with `edit` applied. */
function preset(edit: (c: PipelockConfig) => void = () => {}): PipelockConfig {
  const c = loadPresetConfig('balanced').config
  edit(c)
  return c
}

export async function runScaleBench(args: string[] = []): Promise<Record<string, unknown>[]> {
  const {values} = parseArgs({args, options: {rounds: {type: 'string', default: '2'}, profiles: {type: 'string', default: '300'}, seconds: {type: 'string', default: '1'}}})
  const rounds = Number(values.rounds)
  const profiles = Number(values.profiles)
  const seconds = Number(values.seconds)
  const rows: Record<string, unknown>[] = []

  // Start-up with and without profiles, alternating.
  const upstream = http.createServer((_req, res) => res.end(BODY))
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
  const upPort = (upstream.address() as AddressInfo).port
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-scale-'))
  try {
    const arms = [
      {name: 'bench config', yaml: PROXY_BENCH_CONFIG},
      {name: `+ ${profiles} profiles (mode, allowlist)`, yaml: PROXY_BENCH_CONFIG + profilesYaml(profiles, false)},
      {name: `+ ${profiles} profiles, each a DLP pattern of its own`, yaml: PROXY_BENCH_CONFIG + profilesYaml(profiles, true)},
    ].map((a, i) => {
      const file = path.join(dir, `arm${i}.yaml`)
      writeFileSync(file, a.yaml)
      return {...a, file, starts: [] as Start[]}
    })
    for (let r = 0; r < rounds; r++) for (const a of r % 2 === 0 ? arms : [...arms].reverse()) a.starts.push(await startOnce(repoRoot, a.file, upPort))
    for (const a of arms) {
      const m = (f: (x: Start) => number, digits = 0): string => `${median(a.starts.map(f)).toFixed(digits)} (${range(a.starts.map(f), digits)})`
      rows.push({measure: 'start-up', arm: a.name, 'spawn → banner ms': m((x) => x.bannerMs), 'CPU at first request ms': m((x) => x.cpuMs), 'RSS MiB': m((x) => x.rssMiB, 1), 'URL scan µs': '', 'chat body µs': '', 'vs preset': ''})
    }
  } finally {
    upstream.close()
    rmSync(dir, {recursive: true, force: true})
  }

  // Per request, in process.
  const env: Record<string, string> = {}
  for (let i = 0; i < 100; i++) env[`CI_SECRET_${i}`] = crypto.randomBytes(18).toString('base64')
  for (let i = 0; i < 200; i++) env[`VAR_${i}`] = `value${i}`
  const variants: Array<[string, PipelockConfig, Record<string, string>]> = [
    ['balanced preset', preset(), {}],
    ['+ 500 canary tokens', preset((c) => {
      c.canary_tokens.enabled = true
      c.canary_tokens.tokens = Array.from({length: 500}, (_, i) => ({name: `c${i}`, value: `AKIA${randomB32(16)}`})) as typeof c.canary_tokens.tokens
    }), {}],
    ['+ 100 env secrets (dlp.scan_env, 300 variables)', preset((c) => (c.dlp.scan_env = true)), env],
    ['+ 1,000 DLP patterns', preset((c) => {
      c.dlp.patterns = [...c.dlp.patterns, ...Array.from({length: 1000}, (_, i) => ({name: `corp ${i}`, regex: `corp${i}_[A-Za-z0-9]{24}`, severity: 'high'}))] as typeof c.dlp.patterns
    }), {}],
    ['strict, 10,000-host api_allowlist', preset((c) => {
      c.mode = 'strict'
      c.api_allowlist = [...Array.from({length: 10_000}, (_, i) => (i % 2 === 0 ? `api${i}.example${i % 97}.com` : `*.svc${i}.corp.example.org`)), '*.example.com']
    }), {}],
  ]
  // A new host on every call: what an agent reaching many hosts costs (a host seen before is remembered).
  const url = (k: number): string => `https://api${k}.example.com/v1/items/${k % 100}?q=hello+world&page=${k % 7}`
  const body = Buffer.from(JSON.stringify({model: 'm', messages: [{role: 'user', content: 'summarise the build log for me please, and list the tests that failed '.repeat(28)}]}))
  const arms = variants.map(([name, config, e]) => {
    const settings = scannerSettingsFromConfig(config, {env: e})
    settings.maxRequestsPerMinute = Number.MAX_SAFE_INTEGER // scanning, not throttling
    const sc = createScanner(settings)
    // A public address for every host (no DNS), and a rate limiter of its own.
    const ctx = {resolver: async () => ['93.184.216.34'], rateLimiter: new RateLimiter({nowNanos: () => 0n})}
    let k = 0
    return {
      name, url: [] as number[], body: [] as number[],
      scanUrl: () => sc.scanUrl(url(k++), ctx),
      scanBody: () => sc.scanRequestBody({contentType: 'application/json', body, host: 'api.example.com'}),
    }
  })
  // Every arm warmed first (the JIT's work is not the first arm's cost), then rounds in turn.
  for (const a of arms) {
    await cpuPerCall(a.scanUrl, 0.3)
    await cpuPerCall(a.scanBody, 0.3)
  }
  for (let r = 0; r < rounds; r++) {
    for (const a of r % 2 === 0 ? arms : [...arms].reverse()) {
      a.url.push(await cpuPerCall(a.scanUrl, seconds))
      a.body.push(await cpuPerCall(a.scanBody, seconds))
    }
  }
  const base = arms[0]!
  for (const a of arms) {
    rows.push({
      measure: 'per request', arm: a.name, 'spawn → banner ms': '', 'CPU at first request ms': '', 'RSS MiB': '',
      'URL scan µs': `${median(a.url).toFixed(0)} (${range(a.url)})`, 'chat body µs': `${median(a.body).toFixed(0)} (${range(a.body)})`,
      'vs preset': `×${(median(a.url) / median(base.url)).toFixed(2)} / ×${(median(a.body) / median(base.body)).toFixed(2)}`,
    })
  }
  return rows
}
