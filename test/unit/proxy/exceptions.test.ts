/**
 * Scoped exceptions (issue 14): the matching table (host, path prefix/glob, finding, agent,
 * waivable labels), grant validation, and the store's consumption, expiry, revoke and
 * persistence with a fake clock and a temp directory.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, it} from 'node:test'
import {exceptionMatches, hostMatches, pathMatches, validateGrant, wildcardPublicSuffix, type ExceptionTarget} from '../../../src/plugins/proxy/exception-rules.js'
import {ExceptionStore, type ExceptionChange} from '../../../src/plugins/proxy/exception-store.js'
import {exceptionTarget} from '../../../src/plugins/proxy/exception-gate.js'

const target = (o: Partial<ExceptionTarget> = {}): ExceptionTarget => ({
  host: 'api.github.com', path: '/repos/acme/docs/contents/a.md', layer: 'dlp', reason: 'dlp_match', patterns: ['GitHub Token'], agent: 'ci-bot', agentBound: true, ...o,
})

describe('exception matching', () => {
  it('host: exact (case-insensitive, trailing dot) and *.suffix (subdomains only)', () => {
    const rows: Array<[string, string, boolean]> = [
      ['api.github.com', 'api.github.com', true],
      ['api.github.com', 'API.GitHub.com.', true],
      ['api.github.com', 'github.com', false],
      ['*.github.com', 'api.github.com', true],
      ['*.github.com', 'a.b.github.com', true],
      ['*.github.com', 'github.com', false],
      ['*.github.com', 'evilgithub.com', false],
      ['127.0.0.1', '127.0.0.1', true],
      ['::1', '[::1]', true],
    ]
    for (const [rule, host, want] of rows) assert.equal(hostMatches(rule, host), want, `${rule} vs ${host}`)
  })

  it('path: prefix at a segment boundary, or a glob where * matches anything', () => {
    const rows: Array<[string, string, boolean]> = [
      ['/repos/acme', '/repos/acme', true],
      ['/repos/acme', '/repos/acme/docs', true],
      ['/repos/acme', '/repos/acmex', false],
      ['/repos/acme/', '/repos/acme/x', true],
      ['/', '/anything', true],
      ['/repos/*/docs', '/repos/acme/docs', true],
      ['/repos/*/docs', '/repos/acme/docs/more', false],
      ['/repos/*/docs*', '/repos/acme/docs/more', true],
      ['/repos/*', '/repos/a/b/c', true],
      ['*.md', '/a/b/readme.md', true],
      ['*.md', '/a/b/readme.txt', false],
      ['/a*b*c', '/aXbYc', true],
      ['/a*b*c', '/aXbY', false],
      ['/x', '', false],
    ]
    for (const [rule, p, want] of rows) assert.equal(pathMatches(rule, p), want, `${rule} vs ${p}`)
  })

  it('finding, agent and the waivable labels', () => {
    const e = {host: 'api.github.com'}
    const rows: Array<[Record<string, string>, Partial<ExceptionTarget>, boolean, string]> = [
      [{}, {}, true, 'host only: any waivable finding'],
      [{pattern: 'github token'}, {}, true, 'DLP pattern name, case-insensitive'],
      [{pattern: 'AWS Access ID'}, {}, false, 'another pattern'],
      [{pattern: 'dlp'}, {}, true, 'scanner label'],
      [{pattern: 'dlp_match'}, {}, true, 'block reason'],
      [{pattern: 'blocklist'}, {layer: 'blocklist', reason: 'domain_blocklist', patterns: []}, true, 'blocklist label'],
      [{path: '/repos/acme'}, {}, true, 'path prefix'],
      [{path: '/orgs'}, {}, false, 'other path'],
      [{agent: 'ci-bot'}, {}, true, 'bound agent'],
      [{agent: 'ci-bot'}, {agentBound: false}, false, 'a self-declared name never claims an agent-scoped exception'],
      [{agent: 'other'}, {}, false, 'other agent'],
      [{}, {layer: 'core_dlp'}, false, 'core DLP is never waived'],
      [{}, {layer: 'core_ssrf'}, false, 'core SSRF is never waived'],
      [{}, {layer: 'ssrf'}, false, 'SSRF is never waived'],
      [{}, {layer: 'ratelimit'}, false, 'rate limit is never waived'],
      [{}, {layer: 'databudget'}, false, 'data budget is never waived'],
      [{}, {layer: 'kill_switch'}, false, 'kill switch is never waived'],
      [{}, {layer: 'airlock'}, false, 'airlock is never waived'],
      [{}, {host: 'evil.example'}, false, 'other host'],
    ]
    for (const [extra, t, want, why] of rows) assert.equal(exceptionMatches({...e, ...extra}, target(t)), want, why)
  })

  it('the target of a blocked request: host and decoded path from the URL, bound only when the deployment bound the name', () => {
    const scan = {layer: 'dlp' as const, reason: 'dlp_match' as const, findings: [{pattern: 'GitHub Token'}] as never}
    assert.deepEqual(exceptionTarget({agent: 'a', auth: 'bound', bound: true}, 'https://API.example.com:8443/x%20y?q=1', scan), {
      host: 'api.example.com', path: '/x y', layer: 'dlp', reason: 'dlp_match', patterns: ['GitHub Token'], agent: 'a', agentBound: true,
    })
    assert.equal(exceptionTarget({agent: 'a', auth: 'self-declared'}, 'http://h/', scan).agentBound, false)
    // A header naming a configured profile is matched, but still the client's claim.
    assert.equal(exceptionTarget({agent: 'a', auth: 'matched', bound: false}, 'http://h/', scan).agentBound, false)
    assert.equal(exceptionTarget({agent: 'a', auth: 'matched', bound: true}, 'http://h/', scan).agentBound, true)
    assert.equal(exceptionTarget({agent: 'a', auth: 'config-default', bound: false}, 'http://h/', scan).agentBound, true)
    assert.equal(exceptionTarget({agent: 'a', auth: 'bound', bound: true}, 'http://h', scan).path, '/')
  })
})

describe('grant validation', () => {
  const ok = {host: 'api.github.com', granted_by: 'alice', reason: 'fixture'}
  it('defaults: one use, one hour', () => {
    const v = validateGrant(ok)
    assert.ok(v.ok)
    assert.equal(v.grant.uses, 1)
    assert.equal(v.grant.expires_in_seconds, 3600)
  })
  it('refusals, one line each', () => {
    const rows: Array<[Record<string, unknown>, string]> = [
      [{host: ''}, 'host is required'],
      [{host: '*'}, 'host "*" is too broad: name one host or *.example.com'],
      [{host: '*github.com'}, 'host "*github.com" is too broad: name one host or *.example.com'],
      [{host: 'https://x.com/'}, 'host "https://x.com/" is not a hostname or IP address (no scheme, port or path)'],
      // a wildcard over a whole public suffix (TLD, ICANN second level, private registry, unknown label), case folded
      ...['*.com', '*.UK', '*.co.uk', '*.github.io', '*.herokuapp.com', '*.internal'].map((h): [Record<string, unknown>, string] => {
        const host = h.toLowerCase()
        return [{host: h}, `host "${host}" is too broad: ${host.slice(2)} is a public suffix; name one host or *.example.com`]
      }),
      [{host: '*.0.1'}, 'host "*.0.1" is too broad: a wildcard over numeric labels matches IP addresses; name an address exactly'],
      [{host: '*.example.10'}, 'host "*.example.10" is too broad: a wildcard over numeric labels matches IP addresses; name an address exactly'],
      [{path: 'repos'}, 'path must start with / (at most 256 characters)'],
      [{uses: 0}, 'uses must be an integer from 1 to 100'],
      [{uses: 101}, 'uses must be an integer from 1 to 100'],
      [{expires_in_seconds: 0}, 'expires_in_seconds must be an integer from 1 to 604800 (an exception always expires, within 7 days)'],
      [{expires_in_seconds: 604801}, 'expires_in_seconds must be an integer from 1 to 604800 (an exception always expires, within 7 days)'],
      [{granted_by: ' '}, 'granted_by is required (1 to 128 printable characters)'],
      [{reason: ''}, 'reason is required (at most 1024 bytes, one line)'],
      [{reason: 'a\nb'}, 'reason is required (at most 1024 bytes, one line)'],
      [{reason: 'x'.repeat(1025)}, 'reason is required (at most 1024 bytes, one line)'],
    ]
    for (const [patch, error] of rows) assert.deepEqual(validateGrant({...ok, ...patch} as never), {ok: false, error}, JSON.stringify(patch))
  })
  it('a wildcard over one registrable domain is accepted, under an ICANN or a private suffix', () => {
    for (const host of ['*.example.com', '*.bbc.co.uk', '*.acme.github.io', '*.api.example.com', '*.corp.internal']) assert.equal(validateGrant({...ok, host}).ok, true, host)
    // Exact hosts are never too broad, even when they are a suffix themselves.
    for (const host of ['com', 'github.io', '10.0.0.1']) assert.equal(validateGrant({...ok, host}).ok, true, host)
  })
  it('wildcardPublicSuffix: the Public Suffix List, its wildcard and exception rules included', () => {
    const rows: Array<[string, string | null]> = [
      ['*.com', 'com'], ['*.co.uk', 'co.uk'], ['*.github.io', 'github.io'], ['*.s3.amazonaws.com', 's3.amazonaws.com'],
      // *.kawasaki.jp is a rule: x.kawasaki.jp is a suffix; !city.kawasaki.jp is an exception to it.
      ['*.x.kawasaki.jp', 'x.kawasaki.jp'], ['*.city.kawasaki.jp', null],
      ['*.example.com', null], ['*.acme.github.io', null], ['example.com', null], ['com', null],
    ]
    for (const [host, want] of rows) assert.equal(wildcardPublicSuffix(host), want, host)
  })
})

describe('exception store', () => {
  const setup = (): {store: () => ExceptionStore; clock: {now: number}; changes: ExceptionChange[]; dir: string} => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-exc-unit-'))
    const clock = {now: Date.parse('2026-05-25T10:00:00Z')}
    const changes: ExceptionChange[] = []
    let n = 0
    return {dir, clock, changes, store: () => new ExceptionStore({dir, nowMs: () => clock.now, newId: () => `exc-${String(++n).padStart(12, '0')}`, onChange: (c) => changes.push(c)})}
  }

  it('counts uses, drops a used-up exception, and persists the count (0600) across a reopen', () => {
    const s = setup()
    const store = s.store()
    const g = store.grant({host: 'api.github.com', uses: 2, granted_by: 'alice', reason: 'fixture'})
    assert.ok(g.ok)
    assert.deepEqual(g.exception, {
      id: 'exc-000000000001', host: 'api.github.com', uses: 2, uses_left: 2, granted_at: '2026-05-25T10:00:00Z', expires_at: '2026-05-25T11:00:00Z', granted_by: 'alice', reason: 'fixture',
    })
    const file = path.join(s.dir, 'exceptions.json')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const u1 = store.consume(target())
    assert.deepEqual(u1, {id: 'exc-000000000001', rule: 'dlp', layer: 'dlp', reason: 'dlp_match', usesLeft: 1, expiresAt: '2026-05-25T11:00:00Z', grantedBy: 'alice', grantReason: 'fixture'})
    // A restart: the new store reads the remaining use.
    const reopened = s.store()
    assert.equal(reopened.list()[0]!.uses_left, 1)
    assert.equal(reopened.consume(target())?.usesLeft, 0)
    assert.equal(reopened.consume(target()), undefined)
    assert.deepEqual(reopened.list(), [])
    assert.deepEqual((JSON.parse(readFileSync(file, 'utf8')) as {exceptions: unknown[]}).exceptions, [])
    assert.deepEqual(s.changes.map((c) => [c.action, c.exception.id, c.operator]), [['grant', 'exc-000000000001', 'alice']])
  })

  it('expiry: in force until expires_at, then never used and not listed', () => {
    const s = setup()
    const store = s.store()
    assert.ok(store.grant({host: 'api.github.com', expires_in_seconds: 60, granted_by: 'a', reason: 'r'}).ok)
    s.clock.now += 59_999
    assert.equal(store.list().length, 1)
    s.clock.now += 1
    assert.equal(store.consume(target()), undefined)
    assert.deepEqual(store.list(), [])
  })

  it('the oldest matching grant is used first; revoke removes one and records who', () => {
    const s = setup()
    const store = s.store()
    store.grant({host: 'api.github.com', pattern: 'GitHub Token', granted_by: 'a', reason: 'first'})
    store.grant({host: 'api.github.com', granted_by: 'b', reason: 'second'})
    assert.equal(store.consume(target())?.id, 'exc-000000000001')
    assert.equal(store.revoke('exc-000000000002', 'carol')?.reason, 'second')
    assert.equal(store.revoke('exc-000000000002', 'carol'), undefined)
    assert.equal(store.consume(target()), undefined)
    assert.deepEqual(s.changes.map((c) => [c.action, c.operator]), [['grant', 'a'], ['grant', 'b'], ['revoke', 'carol']])
  })

  it('at most 100 in force; an unreadable file refuses to open', () => {
    const s = setup()
    const store = s.store()
    for (let i = 0; i < 100; i++) assert.ok(store.grant({host: 'h.example', granted_by: 'a', reason: 'r'}).ok)
    assert.deepEqual(store.grant({host: 'h.example', granted_by: 'a', reason: 'r'}), {ok: false, status: 409, error: 'too many exceptions in force (max 100); revoke one first'})
    writeFileSync(path.join(s.dir, 'exceptions.json'), '{"nope":1}')
    assert.throws(() => s.store(), /no "exceptions" list/)
    // `null` read as "Cannot read properties of null"; a record of another shape was dropped
    // without a word (or kept, a field of another type matched against requests).
    writeFileSync(path.join(s.dir, 'exceptions.json'), 'null')
    assert.throws(() => s.store(), /no "exceptions" list/)
    const rec = {id: 'exc-1', host: 'h.example', uses: 5, uses_left: 5, granted_at: '2026-05-25T09:00:00Z', expires_at: '2099-05-26T09:00:00Z', granted_by: 'a', reason: 'r'}
    for (const [bad, why] of [[null, 'not a JSON object'], [{...rec, id: 7}, 'id is not a string'], [{...rec, path: {p: '/a'}}, 'path is not a string'], [{...rec, uses_left: '5'}, 'uses_left is not an integer'], [{...rec, expires_at: null}, 'expires_at is not a string']] as const) {
      writeFileSync(path.join(s.dir, 'exceptions.json'), JSON.stringify({version: 1, exceptions: [rec, bad]}))
      assert.throws(() => s.store(), (e: Error) => e.message === `${path.join(s.dir, 'exceptions.json')}: exceptions[1]: ${why}`)
    }
  })

  it('a persisted grant over a whole public suffix is not re-armed on open', () => {
    const s = setup()
    const rec = (id: string, host: string): Record<string, unknown> => ({
      id, host, uses: 5, uses_left: 5, granted_at: '2026-05-25T09:00:00Z', expires_at: '2026-05-26T09:00:00Z', granted_by: 'a', reason: 'r',
    })
    writeFileSync(path.join(s.dir, 'exceptions.json'), JSON.stringify({version: 1, exceptions: [rec('exc-broad', '*.com'), rec('exc-ok', '*.github.com')]}))
    const store = s.store()
    assert.deepEqual(store.list().map((e) => e.id), ['exc-ok'])
    assert.equal(store.consume(target({host: 'pastebin.com', layer: 'blocklist', reason: 'domain_blocklist', patterns: []})), undefined)
    assert.equal(store.consume(target())?.id, 'exc-ok')
  })
})
