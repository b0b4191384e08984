/** Exact text of `pipelock exception …` / `pipelock policy note` (issue 14). */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {expiresSeconds, renderChangeNote, renderExceptionList, renderGrant, renderReload, renderRevoke, type ExceptionInfo} from '../../../src/plugins/admin-client/index.js'

const E: ExceptionInfo = {
  id: 'exc-5b0c2e9a41d7', host: 'api.example.com', path: '/v1/fixtures', pattern: 'Fixture Token', uses: 2, uses_left: 1,
  granted_at: '2026-05-25T10:00:00Z', expires_at: '2026-05-25T12:00:00Z', granted_by: 'alice', reason: 'docs fixture',
}
const BARE: ExceptionInfo = {id: 'exc-000000000001', host: '*.blocked.test', agent: 'ci-bot', uses: 1, uses_left: 1, granted_at: '2026-05-25T10:00:00Z', expires_at: '2026-05-25T10:30:00Z', granted_by: 'bob', reason: 'INC-412'}

test('grant, revoke, list', () => {
  assert.deepEqual(renderGrant(E), ['granted exc-5b0c2e9a41d7: host=api.example.com path=/v1/fixtures pattern="Fixture Token" uses=2 expires_at=2026-05-25T12:00:00Z'])
  assert.deepEqual(renderRevoke({id: BARE.id, revoked: true, exception: BARE}), ['revoked exc-000000000001: host=*.blocked.test agent=ci-bot (1 of 1 uses left)'])
  assert.deepEqual(renderExceptionList({count: 2, exceptions: [E, BARE]}), [
    'ID                HOST             PATH          PATTERN        AGENT   USES-LEFT  EXPIRES               GRANTED-BY  REASON',
    'exc-5b0c2e9a41d7  api.example.com  /v1/fixtures  Fixture Token  *       1/2        2026-05-25T12:00:00Z  alice       docs fixture',
    'exc-000000000001  *.blocked.test   *             *              ci-bot  1/1        2026-05-25T10:30:00Z  bob         INC-412',
  ])
  assert.deepEqual(renderExceptionList({count: 0, exceptions: []}), ['No exceptions in force.'])
  // Server strings are made printable (no terminal control sequences).
  assert.deepEqual(renderGrant({...BARE, agent: 'x\u001b[31my'}), ['granted exc-000000000001: host=*.blocked.test agent=x?[31my uses=1 expires_at=2026-05-25T10:30:00Z'])
})

test('change note and reload', () => {
  const sha = '5b0c2e9a41d7' + 'e'.repeat(52)
  assert.deepEqual(renderChangeNote({pending: true, operator: 'alice', change_id: 'CHG-7', file_sha256: sha, expires_at: '2026-05-25T10:15:00Z'}), [
    'change note pending until 2026-05-25T10:15:00Z: operator=alice change_id=CHG-7',
    'the reload that loads the config file sha256 5b0c2e9a41d7… records it (config_change event and receipt); any other change does not',
  ])
  const attested = {pending: false, attested: true, operator: 'bob', file_sha256: sha, change: {trigger: 'file_watch', at: '2026-05-25T10:02:11.12Z', changed_paths: ['api_allowlist']}}
  assert.deepEqual(renderChangeNote(attested), [
    'change note attached: operator=bob',
    'attests the file_watch change of 2026-05-25T10:02:11.12Z that loaded the config file in force (api_allowlist)',
  ])
  assert.deepEqual(renderReload({reload_requested: true, note_pending: false}), ['reload requested'])
  assert.deepEqual(renderReload({reload_requested: true, note_pending: false, note: attested}), [
    'reload requested; the change note attests the change in force',
    'attests the file_watch change of 2026-05-25T10:02:11.12Z that loaded the config file in force (api_allowlist)',
  ])
})

test('--expires: Go durations from 1s to 168h, never unbounded', () => {
  assert.equal(expiresSeconds('2h'), 7200)
  assert.equal(expiresSeconds('90m'), 5400)
  assert.equal(expiresSeconds('1.5s'), 2)
  assert.equal(expiresSeconds('168h'), 604800)
  for (const bad of ['169h', '0s', '500ms', 'forever', '', '-1h']) assert.throws(() => expiresSeconds(bad), /want a duration from 1s to 168h/, bad)
})
