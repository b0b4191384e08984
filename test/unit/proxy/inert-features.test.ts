import assert from 'node:assert/strict'
import {test} from 'node:test'
import {assertImplemented, defaultConfig} from '../../../src/plugins/config/index.js'
import {readFileSync} from 'node:fs'
import {FEATURE_SECTION_NAMES} from '../../../src/plugins/config/index.js'
import {IMPLEMENTED_FEATURES, inertSectionsNote, MCP_ONLY_SECTIONS, RUN_ACCEPTED_FEATURES} from '../../../src/plugins/proxy/index.js'
import {featureSectionsIn} from '../../helpers/doc-sections.js'
import {repoPath} from '../../helpers/vectors.js'

test('run accepts an enabled sandbox section with a note: it configures processes pipelock sandbox and mcp proxy start', () => {
  const c = defaultConfig()
  c.sandbox.enabled = true
  assert.doesNotThrow(() => assertImplemented(c, RUN_ACCEPTED_FEATURES))
  assert.equal(inertSectionsNote(c), 'pipelock: note: sandbox applies to the processes pipelock sandbox and mcp proxy -- COMMAND start; pipelock run starts none')
  c.mcp_tool_policy.enabled = true
  assert.equal(inertSectionsNote(c), [
    'pipelock: note: mcp_tool_policy applies to MCP transports only; it has no effect on this HTTP proxy',
    'pipelock: note: sandbox applies to the processes pipelock sandbox and mcp proxy -- COMMAND start; pipelock run starts none',
  ].join('\n'))
})

test('docs/config.md "Implemented features" names what run implements, what it accepts with a note and what it refuses, as the code does', () => {
  const doc = readFileSync(repoPath('docs/config.md'), 'utf8')
  const section = doc.slice(doc.indexOf('### Implemented features'))
  const paragraphs = section.split('\n\n')
  const named = (start: string): string[] => {
    const p = paragraphs.find((x) => x.startsWith(start))
    assert.ok(p !== undefined, `no paragraph starting ${JSON.stringify(start)}`)
    return featureSectionsIn(p)
  }
  const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort()
  assert.deepEqual(named('What `pipelock run` implements'), sorted(IMPLEMENTED_FEATURES))
  const accepted = [...RUN_ACCEPTED_FEATURES].filter((f) => !IMPLEMENTED_FEATURES.has(f))
  assert.ok(MCP_ONLY_SECTIONS.every((f) => accepted.includes(f)))
  assert.deepEqual(named('Accepted by `pipelock run` with a start-up note'), sorted(accepted))
  assert.deepEqual(named('Refused at start when enabled'), sorted(FEATURE_SECTION_NAMES.filter((f) => !RUN_ACCEPTED_FEATURES.has(f))))
})

test('docs/run.md names the sections run refuses when enabled, as the code does, and never says taint policies or trust overrides refuse', () => {
  const doc = readFileSync(repoPath('docs/run.md'), 'utf8')
  const section = doc.slice(doc.indexOf('## What this version implements, and what it refuses'), doc.indexOf('## Sessions and adaptive enforcement'))
  const p = section.split('\n\n').find((x) => x.startsWith('Refused at start when enabled'))
  assert.ok(p !== undefined, 'run.md has a "Refused at start when enabled" paragraph')
  assert.deepEqual(featureSectionsIn(p), FEATURE_SECTION_NAMES.filter((f) => !RUN_ACCEPTED_FEATURES.has(f)).sort())
  assert.doesNotMatch(section, /trust_overrides` refuse/)
})

test('the proxy pipelock sandbox embeds does not call file_sentry or sandbox inert: its embedder applies them', () => {
  const c = defaultConfig()
  c.file_sentry.enabled = true
  assert.equal(inertSectionsNote(c), 'pipelock: note: file_sentry applies to the processes pipelock sandbox and mcp proxy -- COMMAND start; pipelock run starts none')
  assert.equal(inertSectionsNote(c, {embedded: true}), null)
  c.mcp_tool_policy.enabled = true
  assert.equal(inertSectionsNote(c, {embedded: true}), 'pipelock: note: mcp_tool_policy applies to MCP transports only; it has no effect on this HTTP proxy')
})

test('with the scan API on, the note names apart the MCP sections its tool_call kind reads, instead of calling them inert', () => {
  const c = defaultConfig()
  c.mcp_tool_policy.enabled = true
  c.mcp_input_scanning.enabled = true
  c.tool_chain_detection.enabled = true
  assert.equal(inertSectionsNote(c, {scanApi: true}), [
    'pipelock: note: tool_chain_detection applies to MCP transports only; it has no effect on this HTTP proxy',
    "pipelock: note: mcp_input_scanning, mcp_tool_policy apply on this run to the scan API's tool_call scans only, not to the HTTP proxy's traffic",
  ].join('\n'))
  c.tool_chain_detection.enabled = false
  c.mcp_input_scanning.enabled = false
  assert.equal(inertSectionsNote(c, {scanApi: true}), "pipelock: note: mcp_tool_policy applies on this run to the scan API's tool_call scans only, not to the HTTP proxy's traffic")
  // Without the scan API nothing of the run reads them.
  assert.equal(inertSectionsNote(c), 'pipelock: note: mcp_tool_policy applies to MCP transports only; it has no effect on this HTTP proxy')
})
