import {isMap, parseDocument, type Document} from 'yaml'
import {ConfigFieldError, dotted, validateConfig, type PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import {editedText, parsesTo, YAML_OPTIONS} from './config-secrets.js'

/**
 * Turns `forward_proxy.enabled` on in a config's text for the sidecar: its agent reaches pipelock
 * only through HTTPS_PROXY/HTTP_PROXY, which a proxy without the forward proxy refuses (every
 * CONNECT fails). The reference's `init sidecar` writes `forward_proxy.enabled: true` always
 * (policy-extra §5.3). Returns the text unchanged when it is already on, else the edited text;
 * like `separateConfigSecrets`, it refuses rather than ship a file that does not read back as the
 * same config plus that one key (a merge key or alias ties `forward_proxy` to other values).
 */
export function enableForwardProxy(
  configText: string,
  config: PipelockConfig,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
): {configText: string; enabled: boolean} {
  if (config.forward_proxy.enabled) return {configText, enabled: false}
  const hint = `set forward_proxy.enabled: true in ${file} yourself (the agent's HTTPS_PROXY needs it)`
  try {
    validateConfig({...config, forward_proxy: {...config.forward_proxy, enabled: true}}, {env})
  } catch (err) {
    if (!(err instanceof ConfigFieldError)) throw err
    throw new PipelockError('CONFIG_INVALID', `generate kubernetes: the sidecar needs forward_proxy.enabled: true, and with it on ${file} is invalid: ${dotted(err.path)}: ${err.detail}`, {hint})
  }
  const doc: Document = parseDocument(configText, YAML_OPTIONS)
  const expected = (doc.toJS({maxAliasCount: 100}) ?? {}) as Record<string, unknown>
  const section = expected.forward_proxy
  expected.forward_proxy = {...(typeof section === 'object' && section !== null ? section : {}), enabled: true}
  // A file that sets nothing (`null`, `~`) becomes a map with the one key.
  if (!isMap(doc.contents) && Object.keys(expected).length === 1) doc.contents = doc.createNode({})
  doc.setIn(['forward_proxy', 'enabled'], true)
  const text = editedText(doc)
  if (text === undefined || !parsesTo(text, expected)) {
    throw new PipelockError('CONFIG_INVALID', `generate kubernetes: forward_proxy.enabled in ${file} cannot be turned on for the sidecar (a YAML anchor, alias or merge key ties forward_proxy to other values)`, {hint})
  }
  return {configText: text, enabled: true}
}
