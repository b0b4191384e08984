import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {ERROR_REGISTRY, PipelockError, formatError, renderErrorDocs} from '../../../src/plugins/errors/index.js'
import {repoPath} from '../../helpers/vectors.js'

// The registry is a public interface: scripts branch on codes and exit statuses. This pin makes
// any rename, removal or exit-code change a deliberate, visible edit (append new codes below).
const PINNED: Record<string, number> = {
  USAGE: 2, FILE_NOT_FOUND: 1, FILE_UNREADABLE: 1, FILE_EXISTS: 1, PATH_NOT_ABSOLUTE: 1, PATH_UNSAFE: 1,
  JSON_INVALID: 1, LINE_TOO_LONG: 1, YAML_INVALID: 1, CANONICAL_INVALID: 1, WRITE_FAILED: 1,
  KEY_INVALID: 1, KEY_PERMISSIONS: 1, KEY_PURPOSE_INVALID: 1, KEY_EXISTS: 1, AGENT_NAME_INVALID: 1,
  FINGERPRINT_INVALID: 1, ROSTER_INVALID: 1, ROSTER_BUILD_REFUSED: 1, KEY_NOT_AUTHORIZED: 1,
  RECEIPT_PARSE: 1, RECEIPT_INVALID: 1, RECEIPT_SIGNATURE_INVALID: 1, RECEIPT_KEY_MISMATCH: 1,
  CHAIN_BROKEN: 1, CHAIN_EMPTY: 1, RECORDER_ENTRY_INVALID: 1, ENDORSEMENT_INVALID: 1, EVIDENCE_INVALID: 1,
  NOT_IMPLEMENTED: 1, CONFIG_INVALID: 2, INTERNAL: 70,
  // session admin CLI: runtime §13 fixes these exit statuses
  ADMIN_API_UNCONFIGURED: 2, ADMIN_API_CONFIG_INVALID: 2, ADMIN_ARGUMENT_INVALID: 2, ADMIN_API_UNAUTHORIZED: 2,
  ADMIN_API_BAD_REQUEST: 2, SESSION_RELEASE_REFUSED: 2, SESSION_NOT_FOUND: 1, ADMIN_API_RATE_LIMITED: 1,
  ADMIN_API_HTTP_ERROR: 1, ADMIN_API_UNREACHABLE: 1, ADMIN_API_RESPONSE_INVALID: 1,
  // sandbox --dry-run: 0 capabilities_ok, 1 degraded, 2 not available (containment.md §2.3)
  SANDBOX_POLICY: 1, SANDBOX_LAYER_UNAVAILABLE: 1, SANDBOX_DEGRADED: 1, SANDBOX_NOT_AVAILABLE: 2, SANDBOX_LAUNCH_FAILED: 1,
  LISTEN_FAILED: 1,
  // envelope trust (envelope spec §10)
  ENVELOPE_TRUST_INVALID: 2, ENVELOPE_VERIFY_FAILED: 3,
  // a proxy started without an admin token (HTTP 404 on an API path): a server-side answer, like SESSION_NOT_FOUND
  ADMIN_API_NOT_ENABLED: 1,
  // session release on a session another session's address hold refuses: nothing changed, fix the target (like SESSION_RELEASE_REFUSED)
  SESSION_HELD_BY_ADDRESS: 2,
}

test('every pinned code keeps its exit status', () => {
  for (const [code, exit] of Object.entries(PINNED)) {
    assert.ok(code in ERROR_REGISTRY, `code ${code} was removed or renamed`)
    assert.equal(ERROR_REGISTRY[code as keyof typeof ERROR_REGISTRY].exit, exit, `exit status of ${code} changed`)
  }
})

test('every code has a summary and an exit status; docs/errors.md is up to date', () => {
  for (const [code, entry] of Object.entries(ERROR_REGISTRY)) {
    assert.match(code, /^[A-Z][A-Z0-9_]+$/)
    assert.ok(entry.summary.length > 0)
    assert.ok(Number.isInteger(entry.exit) && entry.exit > 0)
  }
  const doc = readFileSync(repoPath('docs', 'errors.md'), 'utf8')
  assert.equal(doc, renderErrorDocs(), 'docs/errors.md is stale: run `npm run build && node scripts/gen-error-docs.mjs`')
})

test('formatError prints one line with file and line when known', () => {
  const e = new PipelockError('JSON_INVALID', 'bad token', {location: {file: 'a.jsonl', line: 3}, hint: 'fix it'})
  assert.equal(formatError(e), 'a.jsonl:3: bad token')
  assert.equal(e.exitCode, 1)
  assert.equal(formatError(new PipelockError('USAGE', 'nope')), 'nope')
})

test('docs/signing.md\'s error table names registered codes, and every one exits 1 as it says', () => {
  const doc = readFileSync(repoPath('docs/signing.md'), 'utf8')
  const table = doc.slice(doc.indexOf('## Error codes'))
  const codes = [...table.matchAll(/^\| (`[A-Z_]+`(?: \/ `[A-Z_]+`)*) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([A-Z_]+)`/g)].map((c) => c[1]!))
  assert.ok(codes.length >= 16, codes.join(','))
  assert.ok(table.includes('All of them exit with status 1.'))
  for (const c of codes) assert.equal((ERROR_REGISTRY as Record<string, {exit: number}>)[c]?.exit, 1, c)
})
