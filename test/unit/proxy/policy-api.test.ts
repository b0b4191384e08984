/**
 * The policy admin API (issue 14) on a real 127.0.0.1 socket: processing order (method → auth →
 * rate limit → store → body), the refusals' exact texts, grant/list/revoke, and the change note
 * handed to the policy-change trail.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, test} from 'node:test'
import {ExceptionStore} from '../../../src/plugins/proxy/exception-store.js'
import {PolicyApi, type PolicyHooks} from '../../../src/plugins/proxy/policy-api.js'
import type {ChangeNote} from '../../../src/plugins/proxy/policy-change.js'
import {SessionApi} from '../../../src/plugins/proxy/session-api.js'
import {serveApi} from '../../helpers/api-server.js'

const token = 'tok'
let store: ExceptionStore | null = null
const notes: ChangeNote[] = []
let reloads = 0
const audit: Array<Record<string, unknown>> = []
let server: http.Server
let port = 0

before(async () => {
  const log = {event: (_l: string, _e: string, _m: string, f: Record<string, unknown>) => void audit.push(f)} as never
  const windows = new SessionApi({token: () => token, sessions: () => null, nowMs: () => 0, audit: () => log, identify: () => ({agent: '', key: ''})})
  const hooks: PolicyHooks = {
    note: (n, sha) => {
      notes.push(n)
      // The trail's answer (policy-change.ts): a note for the file in force with nothing to attest is refused.
      if (sha === '0'.repeat(64)) return {ok: false, status: 409, error: 'nothing to attach the note to'}
      return {ok: true, state: 'pending', file_sha256: sha ?? 'f'.repeat(64), expires_at: '2026-05-25T10:15:00Z'}
    },
    reload: () => (reloads++, true),
  }
  const api = new PolicyApi({token: () => token, audit: () => log, exceptions: () => store, allow: (b) => windows.allow(b), policy: () => hooks})
  const served = await serveApi(api)
  server = served.server
  port = served.port
})
after(() => new Promise<void>((r) => server.close(() => r())))

async function call(method: string, p: string, body?: string, auth = `Bearer ${token}`): Promise<{status: number; body: string; allow?: string}> {
  return await new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, method, path: p, headers: {Authorization: auth}, agent: false}, (res) => {
      let b = ''
      res.on('data', (c: Buffer) => (b += c.toString()))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: b, ...(res.headers.allow !== undefined ? {allow: res.headers.allow} : {})}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

test('without a signing recorder: 409 after auth; a wrong token is 401 first', async () => {
  store = null
  assert.deepEqual(await call('GET', '/api/v1/exceptions', undefined, 'Bearer nope'), {status: 401, body: 'unauthorized\n'})
  assert.deepEqual(await call('GET', '/api/v1/exceptions'), {
    status: 409, body: 'exceptions need flight_recorder.enabled with signing_key_path: every use is a signed receipt and the grants persist in flight_recorder.dir\n',
  })
})

test('grant, list, revoke; unknown fields and bad values are 400 with one line', async () => {
  store = new ExceptionStore({dir: mkdtempSync(path.join(tmpdir(), 'pipelock-policy-api-')), nowMs: () => Date.parse('2026-05-25T10:00:00Z'), newId: () => 'exc-aaaaaaaaaaaa'})
  assert.deepEqual(await call('POST', '/api/v1/exceptions', '{"host":"h.example","granted_by":"a","reason":"r","scope":"x"}'), {status: 400, body: 'invalid request body: unknown field "scope"\n'})
  assert.deepEqual(await call('POST', '/api/v1/exceptions', '{"host":"h.example","granted_by":"a","reason":"r","uses":"2"}'), {status: 400, body: 'invalid request body: uses must be a number\n'})
  assert.deepEqual(await call('POST', '/api/v1/exceptions', '{"host":"*","granted_by":"a","reason":"r"}'), {status: 400, body: 'host "*" is too broad: name one host or *.example.com\n'})
  const g = await call('POST', '/api/v1/exceptions', '{"host":"H.example","granted_by":"a","reason":"r"}')
  assert.equal(g.status, 201)
  assert.deepEqual(JSON.parse(g.body), {id: 'exc-aaaaaaaaaaaa', host: 'h.example', uses: 1, uses_left: 1, granted_at: '2026-05-25T10:00:00Z', expires_at: '2026-05-25T11:00:00Z', granted_by: 'a', reason: 'r'})
  assert.equal(JSON.parse((await call('GET', '/api/v1/exceptions')).body).count, 1)
  assert.deepEqual(await call('GET', '/api/v1/exceptions/exc-aaaaaaaaaaaa/revoke'), {status: 405, body: 'method not allowed\n', allow: 'POST'})
  assert.deepEqual(await call('POST', '/api/v1/exceptions/bad%2Fid/revoke'), {status: 400, body: 'missing or invalid exception id in URL path\n'})
  const r = await call('POST', '/api/v1/exceptions/exc-aaaaaaaaaaaa/revoke', '{"revoked_by":"b"}')
  assert.equal(r.status, 200)
  assert.equal(JSON.parse(r.body).revoked, true)
  assert.deepEqual(await call('POST', '/api/v1/exceptions/exc-aaaaaaaaaaaa/revoke'), {status: 404, body: 'exception not found\n'})
  assert.ok(audit.some((a) => a.action === 'exception_grant' && a.id === 'exc-aaaaaaaaaaaa' && a.status === 201))
})

test('change note: held by the trail; reload with a note; 10 a minute then 429', async () => {
  notes.length = 0
  assert.deepEqual(await call('POST', '/api/v1/policy/change-note', '{"operator":"alice"}'), {status: 400, body: 'invalid request body: justification is required (at most 4096 bytes)\n'})
  const n = await call('POST', '/api/v1/policy/change-note', '{"operator":"alice","justification":"why","change_id":"CHG-1"}')
  assert.deepEqual(JSON.parse(n.body), {operator: 'alice', change_id: 'CHG-1', file_sha256: 'f'.repeat(64), pending: true, expires_at: '2026-05-25T10:15:00Z'})
  const r = await call('POST', '/api/v1/policy/reload')
  assert.deepEqual([r.status, JSON.parse(r.body)], [202, {reload_requested: true, note_pending: false}])
  assert.equal(reloads, 1)
  assert.deepEqual(notes, [{operator: 'alice', justification: 'why', change_id: 'CHG-1'}])
  // Issue 34: a note names its file; a refusal from the trail is the answer (and no reload happens).
  assert.deepEqual(await call('POST', '/api/v1/policy/change-note', '{"operator":"a","justification":"j","file_sha256":"XYZ"}'), {status: 400, body: 'invalid request body: file_sha256 must be 64 lower-case hex digits\n'})
  assert.deepEqual(await call('POST', '/api/v1/policy/reload', `{"operator":"a","justification":"j","file_sha256":"${'0'.repeat(64)}"}`), {status: 409, body: 'nothing to attach the note to\n'})
  assert.equal(reloads, 1)
  // note + reload share one bucket: 5 used, 5 more pass, the 11th is refused.
  for (let i = 0; i < 5; i++) assert.equal((await call('POST', '/api/v1/policy/reload', '{}')).status, 202)
  const limited = await call('POST', '/api/v1/policy/reload')
  assert.deepEqual(limited, {status: 429, body: 'rate limit exceeded\n'})
})
