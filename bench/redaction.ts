// `npm run bench -- redaction [iterations]`: class-preserving redaction (envelope-redaction
// §25) of a 64 KiB Anthropic-shaped chat body — prose, code, a tool definition, a few e-mail
// addresses, IPs, a key and a host name — with the documented token-classes profile and with all
// 28 classes. Prints p50/p90/p99 per profile of `Redactor.redactBody` (parse, match, re-encode).
import {performance} from 'node:perf_hooks'
import {pathToFileURL} from 'node:url'
import {resolveConfig} from '../src/plugins/config/index.js'
import {REDACTION_CLASS_NAMES} from '../src/plugins/config/index.js'
import {Redactor} from '../src/plugins/redaction/index.js'

const key = ['AKIA', 'IOSFODNN7', 'BENCHXY'].join('')

function chatBody(target: number): string {
  const prose = 'The deployment pipeline builds the service, runs the unit tests and publishes an image. '
  const code = 'function add(a, b) {\n  return a + b\n}\nconst total = items.reduce((s, x) => add(s, x.price), 0)\n'
  const messages: unknown[] = []
  let i = 0
  const body = (): string => JSON.stringify({
    model: 'claude-sonnet-4-5', max_tokens: 4096, system: `You are a helpful assistant. Deploy with ${key}.`,
    tools: [{name: 'run', description: 'Runs a shell command', input_schema: {type: 'object', properties: {cmd: {type: 'string'}}, required: ['cmd']}}],
    messages,
  })
  while (Buffer.byteLength(body()) < target) {
    const extra = i % 7 === 0 ? ` Mail ops${i}@corp.example or ssh 10.0.${i % 250}.${(i * 7) % 250}.` : ''
    messages.push({role: i % 2 === 0 ? 'user' : 'assistant', content: [{type: 'text', text: prose.repeat(3) + extra}, ...(i % 3 === 0 ? [{type: 'text', text: code}] : [])]})
    i++
  }
  return body()
}

function redactor(classes: readonly string[]): Redactor {
  const c = resolveConfig({request_body_scanning: {enabled: true}, redaction: {enabled: true, default_profile: 'p', profiles: {p: {classes: [...classes]}}}}, {env: {}}).config
  return new Redactor(c.redaction, {env: [], file: []})
}

function measure(name: string, r: Redactor, body: Buffer, iterations: number): Record<string, unknown> {
  const t = {host: 'api.anthropic.com', path: '/v1/messages', method: 'POST', contentType: 'application/json'}
  for (let i = 0; i < 200; i++) r.redactBody(t, body)
  const times: number[] = []
  let total = 0
  for (let i = 0; i < iterations; i++) {
    const s = performance.now()
    const out = r.redactBody(t, body)
    times.push(performance.now() - s)
    if (out.kind === 'rewritten' && out.summary !== null) total = out.summary.total_redactions
  }
  times.sort((a, b) => a - b)
  const p = (q: number): number => Number(times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2))
  return {profile: name, body_bytes: body.length, runs: iterations, redactions: total, p50_ms: p(0.5), p90_ms: p(0.9), p99_ms: p(0.99)}
}

export async function runRedactionBench(args: string[] = []): Promise<Record<string, unknown>[]> {
  const iterations = Number(args[0] ?? '') > 0 ? Number(args[0]) : 2000
  const body = Buffer.from(chatBody(64 * 1024))
  return [
    measure('token classes (doc example)', redactor(['aws-access-key', 'google-api-key', 'github-token', 'slack-token', 'jwt', 'ssh-private-key']), body, iterations),
    measure('all 28 classes', redactor(REDACTION_CLASS_NAMES), body, iterations),
  ]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await runRedactionBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
}
