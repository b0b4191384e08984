import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseStrictYaml, StrictYamlError} from '../../src/plugins/canonical/index.js'
import {readVector} from '../helpers/vectors.js'

// vectors/contract/README.md "invalid/ – strict YAML gate": each file, the exact §1.4 message.
const CASES: Array<[string, string]> = [
  ['duplicate_key.yaml', 'yaml: duplicate key'],
  ['yaml_anchor.yaml', 'yaml: anchors and aliases forbidden in signed artifacts'],
  ['yaml_alias.yaml', 'yaml: anchors and aliases forbidden in signed artifacts'],
  ['yaml_merge_key.yaml', 'yaml: merge keys forbidden in signed artifacts'],
  ['yaml_custom_tag.yaml', 'yaml: custom tags forbidden in signed artifacts'],
  ['yaml_longform_tag.yaml', 'yaml: custom tags forbidden in signed artifacts'],
  ['yaml_multi_doc.yaml', 'yaml: multi-document streams forbidden in signed artifacts'],
]

for (const [file, message] of CASES) {
  test(`contract/invalid/${file} → ${message}`, () => {
    const text = readVector('contract', 'invalid', file)
    assert.throws(
      () => parseStrictYaml(text),
      (e: unknown) => e instanceof StrictYamlError && e.message === message && typeof e.line === 'number',
    )
  })
}
