import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'
import {HASH_EXCLUDED_FIELDS, RESTART_ONLY_FIELDS} from '../../../src/plugins/config/index.js'
import {severityOf} from '../../../src/plugins/emit/index.js'
import {MCP_ONLY_SECTIONS} from '../../../src/plugins/proxy/index.js'
import {STORE_CONTRACT_MAX_BYTES, STORE_JSON_MAX_BYTES, STORE_LOG_MAX_BYTES} from '../../../src/plugins/store/fs-io.js'
import {repoPath} from '../../helpers/vectors.js'

// docs/compatibility.md lists, in its first half, what some code lists hold: these tests hold
// each such list to the code, so the auditor's page cannot drift from the build.

const doc = readFileSync(repoPath('docs/compatibility.md'), 'utf8')

/** The text of the one line or bullet starting with `start` (up to the next bullet or row). */
function piece(start: string, end: RegExp = /\n(?:[-*] |\| |\n)/): string {
  const at = doc.indexOf(start)
  assert.ok(at >= 0, `docs/compatibility.md: no text starting ${JSON.stringify(start)}`)
  const rest = doc.slice(at + start.length)
  const stop = rest.search(end)
  return start + (stop < 0 ? rest : rest.slice(0, stop))
}

const ticked = (text: string): string[] => [...new Set([...text.matchAll(/`([a-z0-9_.]+)`/g)].map((m) => m[1]!))].sort()

test('the store table names exactly the learn_lock fields a reload holds until restart', () => {
  const row = piece('| `learn_lock` on a config reload')
  const named = ticked(row.slice(row.indexOf('| the proxy builds'), row.indexOf('are restart-only')))
  const code = RESTART_ONLY_FIELDS.filter((f) => f.startsWith('learn_lock.')).map((f) => f.slice('learn_lock.'.length)).sort()
  assert.deepEqual(named, code)
})

test('the store table states the size caps the store reads with', () => {
  const row = piece('| Size of store files')
  assert.equal(STORE_JSON_MAX_BYTES, 1024 * 1024)
  assert.equal(STORE_CONTRACT_MAX_BYTES, 16 * 1024 * 1024)
  assert.equal(STORE_LOG_MAX_BYTES, 64 * 1024 * 1024)
  assert.match(row, /store JSON \(active, manifests, policy, tombstones\) 1 MiB, contracts 16 MiB, journal\/receipt files 64 MiB/)
})

test('the presets list names exactly the MCP sections pipelock run accepts as inert', () => {
  const bullet = piece('* `pipelock run` accepts the MCP sections', /\n\* /)
  assert.deepEqual(ticked(bullet).filter((n) => n !== 'pipelock'), [...MCP_ONLY_SECTIONS].sort())
})

test('event emission: the emit fields left out of the policy hash and the event types raised to warn are the code\'s', () => {
  const hash = piece('- The emission keys this port adds', /\n- /)
  const left = ticked(hash.slice(0, hash.indexOf('are left out of the policy hash')))
  assert.deepEqual(left.map((k) => `emit.${k}`).sort(), HASH_EXCLUDED_FIELDS.filter((f) => f.startsWith('emit.')).sort())
  const severities = piece('- **Severities**', /\n- /)
  const raised = ticked(severities.slice(0, severities.indexOf('are emitted at')))
  assert.ok(raised.length >= 7, 'the severities bullet lists the raised types')
  for (const type of raised) assert.equal(severityOf(type, {}), 'warn', type)
  assert.equal(severityOf('adaptive_escalation', {to: 'critical'}), 'critical')
})
