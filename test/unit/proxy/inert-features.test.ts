import assert from 'node:assert/strict'
import {test} from 'node:test'
import {assertImplemented, defaultConfig} from '../../../src/plugins/config/index.js'
import {inertSectionsNote, RUN_ACCEPTED_FEATURES} from '../../../src/plugins/proxy/index.js'

test('run accepts an enabled sandbox section with a note: it configures processes pipelock sandbox and mcp proxy start', () => {
  const c = defaultConfig()
  c.sandbox.enabled = true
  assert.doesNotThrow(() => assertImplemented(c, RUN_ACCEPTED_FEATURES))
  assert.equal(inertSectionsNote(c), 'pipelock: note: sandbox applies to the processes pipelock sandbox and mcp proxy -- COMMAND start; pipelock run starts none')
  c.mcp_tool_policy.enabled = true
  assert.equal(inertSectionsNote(c), [
    'pipelock: note: mcp_tool_policy apply to MCP transports only; they have no effect on this HTTP proxy',
    'pipelock: note: sandbox applies to the processes pipelock sandbox and mcp proxy -- COMMAND start; pipelock run starts none',
  ].join('\n'))
})
