/**
 * Class-preserving redaction (envelope-redaction §14–§19) against the spec's §24 vectors.
 * Secrets are assembled at run time so this file holds none.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, it} from 'node:test'
import {REDACTION_CLASS_NAMES, resolveConfig, type RedactionSectionConfig} from '../../../src/plugins/config/index.js'
import {BUILTIN_CLASS_NAMES, matchProvider, providersOf, Redactor, type RedactionFailure, type RedactionOutcome} from '../../../src/plugins/redaction/index.js'
import {repoPath} from '../../helpers/vectors.js'

const j = (...p: string[]): string => p.join('')
const AWS = j('AKIA', 'IOSFODNN7', 'EXAMPLE')

function section(over: Partial<RedactionSectionConfig> = {}, classes: string[] = ['aws-access-key', 'ipv4', 'email', 'fqdn']): RedactionSectionConfig {
  return {
    enabled: true, default_profile: 'p', profiles: {p: {classes}}, dictionaries: {},
    limits: {max_body_bytes: 10485760, max_redactions_per_request: 10000, max_depth: 64},
    strict_reload: false, allowlist_unparseable: [], allowlist_unparseable_routes: [], providers: {},
    ...over,
  }
}

const redactor = (over: Partial<RedactionSectionConfig> = {}, classes?: string[]): Redactor => new Redactor(section(over, classes), {env: [], file: []})

function text(o: RedactionOutcome): string {
  assert.equal(o.kind, 'rewritten', JSON.stringify(o))
  return (o as {body: Buffer}).body.toString('utf8')
}

const run = (r: Redactor, body: string): RedactionOutcome => r.redactText(body, 'generic-json')
const one = (r: Redactor, s: string): string => (JSON.parse(text(run(r, JSON.stringify({v: s})))) as {v: string}).v

describe('redaction: classes', () => {
  it('the config knows the same 28 class names as the matcher', () => {
    assert.equal(BUILTIN_CLASS_NAMES.length, 28)
    assert.deepEqual([...BUILTIN_CLASS_NAMES], [...REDACTION_CLASS_NAMES])
  })

  const POSITIVES: Record<string, string> = {
    'env-secret': j('DB_', 'PASSWORD=', 'hunter2hunter2'),
    'aws-access-key': AWS,
    'aws-secret-key': j('aws_secret_access_key = ', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
    'google-api-key': j('AIza', 'SyA1234567890abcdefghijklmnopqrstuv'),
    'github-token': j('ghp_', 'abcdefghijklmnopqrstuvwxyz0123'),
    'gitlab-token': j('glpat-', 'abcdefghijklmnopqrst'),
    'slack-token': j('xoxb-', '1234567890-abcdef'),
    'openai-api-key': j('sk-', 'proj-', 'abcdefghij1234'),
    'anthropic-api-key': j('sk-', 'ant-', 'api03-abcdefghij'),
    'telegram-bot-token': j('123456789:', 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1'),
    'discord-bot-token': j('MTIzNDU2Nzg5MDEyMzQ1Njc4', '.GaBcDe.', 'abcdefghijklmnopqrstuvwxyz0'),
    jwt: j('eyJ', 'hbGciOiJIUzI1NiJ9', '.eyJzdWIiOiIxIn0', '.c2lnbmF0dXJl'),
    'ssh-private-key': j('-----BEGIN ', 'OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END ', 'OPENSSH PRIVATE KEY-----'),
    bearer: j('Bearer ', 'abcdefghijklmnopqrstuvwxyz'),
    'ad-user': j('CORP', '\\', 'alice'),
    ssn: j('123-', '45-', '6789'),
    'hash-sha512': 'ab'.repeat(64),
    'hash-sha256': 'cd'.repeat(32),
    'hash-sha1': 'ef'.repeat(20),
    'hash-md5': '12'.repeat(16),
    'credit-card': j('4111 ', '1111 1111 1111'),
    cidr: '10.1.0.0/16',
    ipv4: '192.0.2.104',
    ipv6: '2001:db8::1',
    mac: '00:1a:2b:3c:4d:5e',
    email: j('ops', '@', 'example.com'),
    fqdn: 'dc01.corp.local',
    'seed-phrase': 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
  }
  for (const cls of REDACTION_CLASS_NAMES) {
    it(`redacts ${cls}`, () => {
      const r = redactor({}, [cls])
      const o = run(r, JSON.stringify({v: `x ${POSITIVES[cls]} y`}))
      assert.equal(text(o), `{"v":"x <pl:${cls}:1> y"}`)
      assert.deepEqual((o as {summary: {by_class: object}}).summary.by_class, {[cls]: 1})
    })
  }

  it('negatives stay', () => {
    const r = redactor({}, [...REDACTION_CLASS_NAMES.filter((c) => c !== 'fqdn')])
    for (const s of ['std::cout', 'foo::bar', 'version 1.2.3']) assert.equal(one(r, s), s)
  })

  it('ssh-private-key runs through the END line, or to the end of the scalar (R3 fix)', () => {
    const r = redactor({}, ['ssh-private-key'])
    const key = j('-----BEGIN ', 'RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END ', 'RSA PRIVATE KEY-----')
    assert.equal(one(r, `k: ${key} tail`), 'k: <pl:ssh-private-key:1> tail')
    assert.equal(one(r, j('x -----BEGIN ', 'EC PRIVATE KEY-----\nMHcCAQEE')), 'x <pl:ssh-private-key:1>')
  })

  it('overlaps: cidr beats ipv4, email beats fqdn, an env assignment is one env-secret', () => {
    const r = redactor({}, ['cidr', 'ipv4', 'email', 'fqdn', 'env-secret', 'telegram-bot-token'])
    assert.equal(one(r, 'route 10.0.0.0/16'), 'route <pl:cidr:1>')
    assert.equal(one(r, 'from 10.0.0.1 to 10.0.0.2 via dc01.corp.local'), 'from <pl:ipv4:1> to <pl:ipv4:2> via <pl:fqdn:1>')
    assert.equal(one(r, j('mail ops', '@example.com')), 'mail <pl:email:1>')
    assert.equal(one(r, j('TELEGRAM_BOT_', 'TOKEN=', '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1')), '<pl:env-secret:1>')
  })
})

describe('redaction: the JSON rewrite', () => {
  it('§16.3 golden, document order', () => {
    const r = redactor()
    const o = run(r, `{"model":"claude-sonnet-4-5","max_tokens":1024,"system":"deploy with ${AWS}","messages":[{"role":"user","content":[{"type":"text","text":"ssh to 10.0.0.5 and mail ops@example.com"}]}]}`)
    assert.equal(text(o), '{"model":"claude-sonnet-4-5","max_tokens":1024,"system":"deploy with <pl:aws-access-key:1>","messages":[{"role":"user","content":[{"type":"text","text":"ssh to <pl:ipv4:1> and mail <pl:email:1>"}]}]}')
    assert.deepEqual((o as {summary: unknown}).summary, {profile: 'p', provider: 'generic-json', parser: 'json', total_redactions: 3, by_class: {'aws-access-key': 1, email: 1, ipv4: 1}})
  })

  it('the same pair gets the same placeholder across fields, keys and values; numbering follows the document', () => {
    const r = redactor()
    assert.equal(text(run(r, '{"10.0.0.1":"10.0.0.1","b":"10.0.0.2","c":["10.0.0.1"]}')), '{"<pl:ipv4:1>":"<pl:ipv4:1>","b":"<pl:ipv4:2>","c":["<pl:ipv4:1>"]}')
    assert.equal(text(run(r, '{"a":"10.0.0.1","b":"10.0.0.2"}')), '{"a":"<pl:ipv4:1>","b":"<pl:ipv4:2>"}')
  })

  it('overflow counts unique pairs', () => {
    const r = redactor({limits: {max_body_bytes: 10485760, max_redactions_per_request: 1, max_depth: 64}})
    assert.equal(text(run(r, '{"a":"10.0.0.1 10.0.0.1","b":"10.0.0.1"}')), '{"a":"<pl:ipv4:1> <pl:ipv4:1>","b":"<pl:ipv4:1>"}')
    assert.deepEqual(run(r, '{"a":"10.0.0.1","b":"10.0.0.2"}'), {kind: 'blocked', reason: 'redaction_overflow'})
  })

  it('numbers block on a hit, pass otherwise; bool and null pass', () => {
    const r = redactor({}, ['credit-card'])
    assert.deepEqual(run(r, '{"cc": 4111111111111111}'), {kind: 'blocked', reason: 'secret_in_numeric_scalar'})
    assert.equal(text(run(r, '{"n": 123456789, "f": 1.50e+3, "t": true, "z": null}')), '{"n":123456789,"f":1.50e+3,"t":true,"z":null}')
  })

  it('key collision', () => {
    assert.deepEqual(run(redactor(), '{"<pl:ipv4:1>":"one","10.0.0.1":"two"}'), {kind: 'blocked', reason: 'key_collision'})
  })

  it('depth: with max_depth 2, {"a":{"b":{"c":1}}} fails at the number (depth 3)', () => {
    const r = redactor({limits: {max_body_bytes: 10485760, max_redactions_per_request: 10000, max_depth: 2}})
    assert.deepEqual(run(r, '{"a":{"b":{"c":1}}}'), {kind: 'blocked', reason: 'json_depth_exceeded'})
    assert.equal(text(run(r, '{"a":{"b":1}}')), '{"a":{"b":1}}')
  })

  it('§16.1 precedence: size, syntax, duplicates', () => {
    const r = redactor({limits: {max_body_bytes: 20, max_redactions_per_request: 10000, max_depth: 64}})
    assert.deepEqual(run(r, '{"a":"' + 'x'.repeat(30) + '"}'), {kind: 'blocked', reason: 'body_too_large'})
    assert.deepEqual(run(r, '{"a":1,"a":2}'), {kind: 'blocked', reason: 'duplicate_object_key'})
    assert.deepEqual(run(r, '{"a":1,"a":2'), {kind: 'blocked', reason: 'body_unparseable'})
    assert.deepEqual(run(r, '{"a":1} x'), {kind: 'blocked', reason: 'body_unparseable'})
    assert.deepEqual(run(redactor(), '['.repeat(10001) + ']'.repeat(10001)), {kind: 'blocked', reason: 'body_unparseable'})
    assert.deepEqual(run(redactor(), '{"a\\u0041":1,"aA":2}'), {kind: 'blocked', reason: 'duplicate_object_key'})
  })

  it('re-encodes: compact, no HTML escaping, U+2028 escaped, lone surrogates become U+FFFD', () => {
    assert.equal(text(run(redactor(), '{ "a" : "<b>&\\u2028\\ud800\\/é\\u0001" }')), '{"a":"<b>&\\u2028\ufffd/é\\u0001"}')
  })

  it('deterministic: 100 runs give identical bytes', () => {
    const r = redactor()
    const body = '{"a":"10.0.0.1","b":["10.0.0.2","x@example.com"],"c":{"10.0.0.3":"dc01.corp.local"}}'
    const first = text(run(r, body))
    for (let i = 0; i < 100; i++) assert.equal(text(run(r, body)), first)
  })

  it('operator dictionaries: inline and entries_file, case-insensitive, word boundary, priority per class', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'redact-'))
    const file = path.join(dir, 'names.yaml')
    writeFileSync(file, '- Project Falcon\n- falcon-db\n')
    const r = new Redactor(section({
      profiles: {p: {classes: ['fqdn'], dictionaries: ['code', 'hosts']}},
      dictionaries: {
        code: {class: 'codename', entries: ['Bluebird', 'Bluebird', ''], entries_file: file, case_insensitive: true, word_boundary: true},
        hosts: {class: 'internal-host', entries: ['build.corp.example'], priority: 60},
      },
    }), {env: [], file: []})
    assert.equal(one(r, 'bluebird and PROJECT FALCON on falcon-db; bluebirds'), '<pl:codename:1> and <pl:codename:2> on <pl:codename:3>; bluebirds')
    assert.equal(one(r, 'ssh build.corp.example'), 'ssh <pl:internal-host:1>')
  })

  it('known secrets are always redacted, encoded forms too', () => {
    const secret = j('s3cr3t-', 'value-', '0123456789')
    const r = new Redactor(section({}, ['ipv4']), {env: [secret], file: [j('file-', 'secret-', 'abcdefghij')]})
    assert.equal(one(r, `a ${secret} b ${Buffer.from(secret).toString('base64')}`), 'a <pl:env-secret:1> b <pl:env-secret:2>')
    assert.equal(one(r, `k=${j('file-', 'secret-', 'abcdefghij')}`), 'k=<pl:known-secret:1>')
  })
})

describe('redaction: providers and non-JSON bodies', () => {
  const provs = providersOf(section({providers: {
    aaa_broad_openai: {host_patterns: ['api.openai.com'], path_prefixes: ['/v1']},
    us_gemini: {host_patterns: ['us.generativelanguage.googleapis.com']},
  }}))
  const table: [string, string, string][] = [
    ['api.anthropic.com', '/v1/messages', 'anthropic'],
    ['api.anthropic.com:443', '/v1/messages/count_tokens', 'anthropic'],
    ['api.anthropic.com', '/v1/messagesX', 'anthropic'],
    ['api.anthropic.com.', '/v1/messages', 'generic-json'],
    ['api.openai.com', '/v1/responses', 'openai'],
    ['api.openai.com', '/v1/embeddings', 'aaa_broad_openai'],
    ['eu.generativelanguage.googleapis.com', '/v1beta/models/x:generateContent', 'gemini'],
    ['us.generativelanguage.googleapis.com', '/v1beta/models/x:generateContent', 'us_gemini'],
    ['generativelanguage.googleapis.com', '/v1/models/x', 'gemini'],
    ['example.com', '/v1/messages', 'generic-json'],
  ]
  for (const [host, p, want] of table) it(`${host}${p} → ${want}`, () => assert.equal(matchProvider(provs, host, p), want))

  it('non-JSON is blocked unless the host or a route is allowlisted (route lists AND-ed)', () => {
    const r = redactor({
      allowlist_unparseable: ['*.uploads.example'],
      allowlist_unparseable_routes: [{host: 'login.example', methods: ['POST'], path_suffixes: ['/token'], content_types: ['application/x-www-form-urlencoded']}],
    })
    const t = (host: string, method: string, p: string, ct: string): RedactionOutcome => r.redactBody({host, method, path: p, contentType: ct}, Buffer.from('a=b'))
    assert.deepEqual(t('api.example', 'POST', '/', 'text/plain'), {kind: 'blocked', reason: 'non_json_body'})
    assert.deepEqual(t('api.example', 'POST', '/', ''), {kind: 'blocked', reason: 'non_json_body'})
    assert.deepEqual(t('x.uploads.example', 'POST', '/', 'text/plain'), {kind: 'passthrough'})
    assert.deepEqual(t('uploads.example', 'POST', '/', 'text/plain'), {kind: 'blocked', reason: 'non_json_body'})
    assert.deepEqual(t('login.example', 'POST', '/oauth/token', 'application/x-www-form-urlencoded; charset=utf-8'), {kind: 'passthrough'})
    assert.deepEqual(t('login.example', 'PUT', '/oauth/token', 'application/x-www-form-urlencoded'), {kind: 'blocked', reason: 'non_json_body'})
    assert.deepEqual(t('login.example', 'POST', '/oauth/other', 'application/x-www-form-urlencoded'), {kind: 'blocked', reason: 'non_json_body'})
    assert.equal(r.redactBody({host: 'h', method: 'POST', path: '/', contentType: 'application/vnd.api+json'}, Buffer.from('{"a":1}')).kind, 'rewritten')
  })
})

describe('redaction: fuzz', () => {
  it('random JSON never throws, output parses, no original ipv4 survives, placeholders well-formed', () => {
    let seed = 7
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
    const pieces = ['10.0.0.' , 'é', '\u{1f600}', '"', '\\', '\n', 'a', '.', ' ', '<pl:ipv4:1>', '9']
    const str = (): string => Array.from({length: Math.floor(rnd() * 8)}, () => pieces[Math.floor(rnd() * pieces.length)]! + (rnd() < 0.3 ? String(Math.floor(rnd() * 255)) : '')).join('')
    const val = (d: number): unknown => {
      const k = Math.floor(rnd() * (d > 4 ? 3 : 6))
      if (k === 0) return str()
      if (k === 1) return Math.floor(rnd() * 100)
      if (k === 2) return rnd() < 0.5 ? null : true
      if (k === 3) return Array.from({length: Math.floor(rnd() * 4)}, () => val(d + 1))
      return Object.fromEntries(Array.from({length: Math.floor(rnd() * 4)}, (_, i) => [`${str()}${i}`, val(d + 1)]))
    }
    const r = redactor({}, ['ipv4'])
    for (let i = 0; i < 300; i++) {
      const o = run(r, JSON.stringify(val(0)))
      if (o.kind === 'blocked') {
        assert.ok(['key_collision', 'secret_in_numeric_scalar'].includes(o.reason), o.reason)
        continue
      }
      const out = text(o)
      JSON.parse(out)
      assert.doesNotMatch(out, /\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b/)
      for (const m of out.matchAll(/<pl:[^>]*>/g)) assert.match(m[0], /^<pl:[a-z0-9][a-z0-9_-]*:\d+>$/)
    }
  })
})

describe('redaction: config validation (check, run and reload share it)', () => {
  const bad = (redaction: unknown, want: string, extra: Record<string, unknown> = {request_body_scanning: {enabled: true}}): void => {
    assert.throws(() => resolveConfig({...extra, redaction}), (e: Error) => {
      assert.equal(e.message, want)
      return true
    })
  }
  it('messages, first error wins, maps in sorted order', () => {
    bad({allowlist_unparseable: ['API.x']}, 'redaction: redact: allowlist_unparseable[0] "API.x": must be lowercase')
    bad({allowlist_unparseable: ['a*.x']}, 'redaction: redact: allowlist_unparseable[0] "a*.x": wildcard is only supported as a leading *. prefix')
    bad({allowlist_unparseable_routes: [{host: 'a.x'}]}, 'redaction: redact: allowlist_unparseable_routes[0]: must include at least one of methods, path_prefixes, path_suffixes, or content_types')
    bad({providers: {Bad: {host_patterns: ['a.x']}}}, 'redaction: redact: provider "Bad" must match [a-z0-9][a-z0-9_-]*')
    bad({providers: {p: {host_patterns: ['a.x'], parser: 'xml'}}}, 'redaction: redact: provider "p" parser "xml" is not supported')
    bad({enabled: true}, 'redaction: redact: default_profile required when enabled')
    bad({enabled: true, default_profile: 'x'}, 'redaction: redact: default_profile "x" not defined in profiles')
    bad({enabled: true, default_profile: 'x', profiles: {x: {classes: ['nope']}}}, 'redaction: redact: profile "x" references unknown class "nope"')
    bad({enabled: true, default_profile: 'x', profiles: {x: {classes: ['ipv4']}, a: {}}}, 'redaction: redact: profile "a" has no classes or dictionaries')
    bad({enabled: true, default_profile: 'x', profiles: {x: {classes: ['ipv4']}}, dictionaries: {d: {class: 'c'}}}, 'redaction: redact: dictionary "d" has no entries or entries_file')
    bad({enabled: true, default_profile: 'x', profiles: {x: {dictionaries: ['d']}}, dictionaries: {d: {class: 'c', entries_file: '/nonexistent/names.yaml'}}}, 'redaction: redact: dictionary "d": entries_file "/nonexistent/names.yaml" cannot be read: no such file or directory')
    bad({enabled: true, default_profile: 'x', profiles: {x: {classes: ['ipv4']}}}, 'redaction: enabled=true requires request_body_scanning.enabled=true (the redaction hook lives in the body-scan path)', {request_body_scanning: {enabled: false}})
  })
  it('limits: ≤ 0 takes the default, larger values are clamped', () => {
    const c = resolveConfig({redaction: {limits: {max_body_bytes: 0, max_redactions_per_request: 5_000_000, max_depth: 1000}}}).config
    assert.deepEqual(c.redaction.limits, {max_body_bytes: 10485760, max_redactions_per_request: 1_000_000, max_depth: 256})
  })
})

describe('redaction: audit score', () => {
  it('scores the section as operations §7.5 does, now that it runs: enabled 4, default_profile 2, profiles 2, strict_reload 2', async () => {
    const {scoreConfig} = await import('../../../src/plugins/preflight/index.js')
    const cat = (file: Record<string, unknown>) => {
      const r = scoreConfig(resolveConfig(file).config)
      return {c: r.categories.find((x) => x.name === 'Redaction')!.score, f: (r.findings ?? []).filter((x) => x.category === 'Redaction').map((x) => x.message)}
    }
    assert.deepEqual(cat({}), {c: 0, f: ['Redaction is disabled — provider request/response bodies are not class-preserved']})
    const on = {request_body_scanning: {enabled: true}, redaction: {enabled: true, default_profile: 'p', profiles: {p: {classes: ['email']}}}}
    assert.deepEqual(cat(on), {c: 8, f: ['Redaction strict_reload is off — dictionary corruption falls back to last snapshot instead of failing closed']})
    assert.deepEqual(cat({...on, redaction: {...on.redaction, strict_reload: true}}), {c: 10, f: []})
  })
})

describe('redaction: matches at scalar junctions', () => {
  it('a match that would cross two scalars is neither invented nor hides one inside a scalar', () => {
    const r = redactor({}, ['bearer', 'aws-secret-key'])
    const tok = 'abcdefghijklmnopqrstuvwxyz'
    assert.equal(text(run(r, JSON.stringify({a: 'say bearer', b: `${tok} and bearer ${tok}`}))), `{"a":"say bearer","b":"${tok} and <pl:bearer:1>"}`)
    const secret = j('wJalrXUtnFEMI/K7MDENG/', 'bPxRfiCYEXAMPLEKEY')
    assert.equal(text(run(r, JSON.stringify({k: 'aws_secret_access_key', v: `${secret} x`}))), `{"k":"aws_secret_access_key","v":"${secret} x"}`)
  })
})

it('docs/redaction.md\'s failure table names every reason an HTTP body can be refused with', () => {
  // Exhaustive by type: a new RedactionFailure does not build until it is listed here.
  const http: Record<RedactionFailure, boolean> = {
    body_too_large: true, body_unparseable: true, non_json_body: true, duplicate_object_key: true, json_depth_exceeded: true,
    redaction_overflow: true, secret_in_numeric_scalar: true, key_collision: true, remarshal_failed: true, internal_error: true,
    ws_message_fragmented: false, // WebSocket only, and never given (fragments are reassembled first)
  }
  const doc = readFileSync(repoPath('docs', 'redaction.md'), 'utf8')
  const section = doc.slice(doc.indexOf('| reason | when |'))
  const rows = section.slice(0, section.indexOf('\n\n')).split('\n').slice(2).map((l) => /^\| `([a-z_]+)` \|/.exec(l)?.[1])
  assert.deepEqual(rows.sort(), Object.keys(http).filter((k) => http[k as RedactionFailure]).sort())
})

it('docs/redaction.md names the built-in classes, and how many there are, as the code has them', () => {
  const doc = readFileSync(repoPath('docs', 'redaction.md'), 'utf8')
  const start = doc.indexOf('built-in classes: ')
  const para = doc.slice(start, doc.indexOf('\n\n', start))
  assert.ok(doc.includes(`The ${BUILTIN_CLASS_NAMES.length} built-in classes:`))
  // In the code's order; the examples of overlap after the list repeat names already given.
  assert.deepEqual([...new Set([...para.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!))], [...BUILTIN_CLASS_NAMES])
})
