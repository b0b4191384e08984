import {isDeepStrictEqual} from 'node:util'
import {parseDocument, type Document} from 'yaml'
import type {PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'

/** A secret taken out of the shipped config: the proxy reads it from `env` instead. */
export interface MovedSecret {
  /** The config field it came from, dotted. */
  readonly field: string
  /** The environment variable the proxy reads it from. */
  readonly env: string
  /** Its key in the generated Secret. */
  readonly key: string
  readonly value: string
}

export interface SeparatedConfig {
  /** The config text with the moved secrets taken out (the input unchanged when none moved). */
  readonly configText: string
  readonly moved: readonly MovedSecret[]
  /** Secret-bearing fields left in the text: the proxy reads them from the config only. Dotted, sorted. */
  readonly kept: readonly string[]
}

// Parsed as config loading parses it (yaml-source.ts), so the check below compares what the proxy reads.
export const YAML_OPTIONS = {uniqueKeys: true, merge: true, schema: 'core'} as const
const SALT_ENV = 'PIPELOCK_CAPTURE_SALT'

/**
 * Takes the secrets the proxy can also read from its environment out of a config's text, for
 * deployment files that ship the config where more people can read it than can read a Secret
 * (a Kubernetes ConfigMap): the admin API token (`PIPELOCK_KILLSWITCH_API_TOKEN` wins over
 * `kill_switch.api_token`) and a literal capture salt (`learn.privacy.salt_source` accepts a
 * `${VAR}` reference). Other credentials have no environment form and are named in `kept`.
 * The edited text must parse to the same document minus those edits; if it does not (the value
 * arrives through a merge key, or an alias elsewhere points at it), this refuses rather than ship
 * the secret anyway.
 */
export function separateConfigSecrets(configText: string, config: PipelockConfig, file: string): SeparatedConfig {
  const moved: MovedSecret[] = []
  const token = config.kill_switch.api_token
  if (token !== '') moved.push({field: 'kill_switch.api_token', env: 'PIPELOCK_KILLSWITCH_API_TOKEN', key: 'api-token', value: token})
  const salt = config.learn.privacy.salt_source
  if (salt !== '' && !/^\$\{.*\}$/.test(salt) && !salt.startsWith('file:')) {
    moved.push({field: 'learn.privacy.salt_source', env: SALT_ENV, key: 'capture-salt', value: salt})
  }
  const kept = keptSecretFields(config)
  if (moved.length === 0) return {configText, moved, kept}

  const doc = parseDocument(configText, YAML_OPTIONS)
  const expected = doc.toJS({maxAliasCount: 100}) as Record<string, Record<string, unknown>>
  for (const m of moved) {
    if (m.field === 'kill_switch.api_token') {
      doc.deleteIn(['kill_switch', 'api_token'])
      delete expected.kill_switch!.api_token
    } else {
      doc.setIn(['learn', 'privacy', 'salt_source'], `\${${SALT_ENV}}`)
      ;(expected.learn!.privacy as Record<string, unknown>).salt_source = `\${${SALT_ENV}}`
    }
  }
  const text = editedText(doc)
  if (text === undefined || !parsesTo(text, expected)) {
    const fields = moved.map((m) => m.field).join(' and ')
    throw new PipelockError('CONFIG_INVALID', `generate kubernetes: ${fields} in ${file} cannot be moved into a Secret (a YAML anchor, alias or merge key ties it to other values)`, {
      hint: `write ${fields} as a plain value in the config, or remove it and set ${moved.map((m) => m.env).join(' and ')} from a Secret yourself`,
    })
  }
  return {configText: text, moved, kept}
}

export function editedText(doc: Document): string | undefined {
  try {
    return doc.toString({lineWidth: 0, flowCollectionPadding: false})
  } catch {
    // An alias left without its anchor (the anchor sat on the value taken out).
    return undefined
  }
}

export function parsesTo(text: string, expected: unknown): boolean {
  const again = parseDocument(text, YAML_OPTIONS)
  if (again.errors.length > 0) return false
  try {
    return isDeepStrictEqual(again.toJS({maxAliasCount: 100}), expected)
  } catch {
    return false
  }
}

/** Credentials the proxy reads only from the config (no environment variable stands in for them). */
function keptSecretFields(c: PipelockConfig): string[] {
  const kept: string[] = []
  if (c.emit.webhook.auth_token !== '') kept.push('emit.webhook.auth_token')
  if (Object.keys(c.emit.otlp.headers).length > 0) kept.push('emit.otlp.headers')
  if (c.license_key !== '') kept.push('license_key')
  if (c.scan_api.auth.bearer_tokens.length > 0) kept.push('scan_api.auth.bearer_tokens')
  return kept
}
