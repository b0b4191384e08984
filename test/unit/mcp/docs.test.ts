// docs/mcp.md against the code: the built-in tool policy it lists, and the rows of its JSON-RPC
// block table (each a code and message the proxy answers with).
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {BUILTIN_TOOL_POLICY_RULES} from '../../../src/plugins/config/builtin-tool-policy.js'
import {MCP_ERRORS} from '../../../src/plugins/mcp/jsonrpc/errors.js'
import {repoPath} from '../../helpers/vectors.js'

const doc = readFileSync(repoPath('docs', 'mcp.md'), 'utf8')

test('docs/mcp.md lists the built-in tool policy rules, their number and their actions as the code has them', () => {
  const list = BUILTIN_TOOL_POLICY_RULES.map((r) => `${r.name}${r.action !== undefined && r.action !== '' ? ` (${r.action})` : ''}`).join(', ')
  assert.ok(doc.replace(/\s+/g, ' ').includes(`The built-ins (used when the section is auto-enabled): ${list}.`), list)
  assert.ok(doc.includes(`## Tool policy and the ${BUILTIN_TOOL_POLICY_RULES.length} built-in rules`))
})

test('every row of docs/mcp.md\'s JSON-RPC block table is a code and message the proxy answers with', () => {
  const start = doc.indexOf('| code | message | `data.block_reason` |')
  const rows = doc.slice(start, doc.indexOf('\n\n', start)).split('\n').slice(2)
  assert.ok(rows.length >= 15)
  const specs = Object.values(MCP_ERRORS) as ReadonlyArray<{code: number; message: string}>
  for (const row of rows) {
    const [, code, message] = row.split('|').map((c) => c.trim())
    const shown = /^`([^`]*)`/.exec(message!)?.[1]
    if (shown === undefined) continue // the kill switch's configurable message, the contract rows' prose
    // The table writes a message's variable parts as <name> or …; compare what comes before them.
    const fixed = shown.split(/<|…/)[0]!
    const matches = (s: {code: number; message: string}): boolean => {
      const head = s.message.split('{}')[0]!
      return s.code === Number(code) && fixed !== '' && (fixed.startsWith(head) || head.startsWith(fixed))
    }
    // The contract rows' messages live in the contract gate, not in this vocabulary.
    assert.ok(specs.some(matches) || /live-lock contract|contract tool-call|contract_default_deny: agent/.test(shown), `no ${code} ${shown}`)
  }
})

test('docs/mcp.md names every JSON-RPC error the proxy gives, with its code', () => {
  // Vocabulary entries no code path gives (kept from the specification's vocabulary).
  const neverGiven = new Set(['frozen_tool', 'redaction', 'envelope'])
  const src = readdirSync(repoPath('src', 'plugins'), {recursive: true, encoding: 'utf8'})
    .filter((f) => f.endsWith('.ts') && !f.endsWith(path.join('jsonrpc', 'errors.ts')))
    .map((f) => readFileSync(repoPath('src', 'plugins', f), 'utf8')).join('\n')
  for (const k of neverGiven) assert.ok(!src.includes(`mcpError('${k}'`) && !src.includes(`MCP_ERRORS.${k}`), `${k} is given now: document it`)
  for (const [k, spec] of Object.entries(MCP_ERRORS) as Array<[string, {code: number; message: string}]>) {
    if (neverGiven.has(k)) continue
    const head = spec.message.split('{}')[0]!
    const shown = head === '' || head === 'pipelock: ' ? null : head
    assert.ok(doc.includes(String(spec.code)), `code ${spec.code} (${k})`)
    if (shown !== null) assert.ok(doc.includes(shown.trimEnd()), `${k}: ${shown}`)
  }
})
