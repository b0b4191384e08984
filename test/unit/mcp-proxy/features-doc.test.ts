import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'
import {FEATURE_SECTION_NAMES} from '../../../src/plugins/config/index.js'
import {MCP_IMPLEMENTED_FEATURES, NOT_USED_BY_MCP_PROXY} from '../../../src/plugins/mcp-proxy/index.js'
import {featureSectionsIn} from '../../helpers/doc-sections.js'
import {repoPath} from '../../helpers/vectors.js'

test('docs/mcp.md and docs/compatibility.md name exactly the sections mcp proxy refuses to start with', () => {
  const refused = FEATURE_SECTION_NAMES.filter((f) => !MCP_IMPLEMENTED_FEATURES.has(f) && !NOT_USED_BY_MCP_PROXY.has(f)).sort()
  const mcp = readFileSync(repoPath('docs/mcp.md'), 'utf8')
  const from = mcp.indexOf('Everything else that is enabled refuses to start by name')
  assert.ok(from >= 0, 'docs/mcp.md: the refusal sentence')
  const sentence = mcp.slice(mcp.indexOf('in\nthis version:', from), mcp.indexOf('Licence inputs', from))
  assert.deepEqual(featureSectionsIn(sentence), refused)
  const compat = readFileSync(repoPath('docs/compatibility.md'), 'utf8')
  const at = compat.indexOf('* **Sections the MCP proxy does not implement refuse to start by name**')
  assert.ok(at >= 0, 'docs/compatibility.md: the refusal bullet')
  assert.deepEqual(featureSectionsIn(compat.slice(at, compat.indexOf('Sessions, adaptive enforcement', at))), refused)
})
