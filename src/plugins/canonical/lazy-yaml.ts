/**
 * The YAML library, loaded on first use. Rule bundles and redaction dictionaries are read only
 * when configured, and a static import would put the YAML reader into the start-up of every
 * `pipelock run` and `mcp proxy` bundle (start-up laziness, issue 18). `require` exists in the
 * CommonJS bundle; elsewhere (ESM) a require is made for this module.
 */
import {createRequire} from 'node:module'

type Yaml = typeof import('yaml')
let yaml: Yaml | undefined

export function lazyYaml(): Yaml {
  if (yaml === undefined) {
    const req = typeof require === 'function' ? require : createRequire(import.meta.url)
    yaml = req('yaml') as Yaml
  }
  return yaml
}
