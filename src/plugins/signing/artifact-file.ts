import {readFileSync} from 'node:fs'
import path from 'node:path'
import {StrictYamlError, type JsonValue} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import type {ErrorCode} from '../errors/index.js'
import {goErrnoText, goQ, readFailureCode} from './go-fmt.js'
import {refuseSpecialFile} from './input-file.js'
import {decodeSignedArtifactTree} from './roster.js'

/**
 * Reads a signed document (recovery authorisation, root transition) as JSON or strict YAML by
 * extension. `what` prefixes the errors: `<what> read failed: …` / `<what> decode failed: …`.
 */
export function readSignedDocument(file: string, what: string, code: ErrorCode): JsonValue {
  refuseSpecialFile(file, what)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new PipelockError(readFailureCode(e), `${what} read failed: open ${file}: ${goErrnoText(e)}`)
  }
  const ext = path.extname(file).toLowerCase()
  if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml') {
    throw new PipelockError(code, `unsupported ${what} file extension: ${goQ(path.extname(file))}`)
  }
  try {
    return decodeSignedArtifactTree(text, ext)
  } catch (e) {
    const line = e instanceof StrictYamlError ? e.line : undefined
    throw new PipelockError(code, `${what} decode failed: ${(e as Error).message}`, line === undefined ? {} : {location: {file, line}})
  }
}
