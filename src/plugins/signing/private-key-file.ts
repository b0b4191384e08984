import {readFileSync, statSync} from 'node:fs'
import {osErrorReason, PipelockError} from '../errors/index.js'
import {keyPairFromGoPrivateKey, type Ed25519KeyPair} from './ed25519.js'
import {decodePrivateKeyText} from './key-text.js'
import {checkPrivateKeyMode} from './keystore.js'

// A `pipelock-ed25519-private-v1` key file (`pipelock keygen`), refusing group/world-readable
// files. Every message starts with `label` (the config field or flag that named the file), so
// `pipelock run`, `pipelock check` and `signing rotation endorse` refuse the same key the same way.

export function loadPrivateKeyTextFile(file: string, label: string, hint?: string): Ed25519KeyPair {
  const withHint = hint === undefined ? {} : {hint}
  let st
  try {
    st = statSync(file)
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT'
    throw new PipelockError(missing ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `${label}: ${file}: ${osErrorReason(e)}`, missing ? withHint : {})
  }
  if (!st.isFile()) throw new PipelockError('KEY_INVALID', `${label}: ${file} is not a regular file`, withHint)
  try {
    checkPrivateKeyMode(file, st.mode)
  } catch (e) {
    if (e instanceof PipelockError) throw new PipelockError(e.code, `${label}: ${e.message}`)
    throw e
  }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new PipelockError('FILE_UNREADABLE', `${label}: ${file}: ${osErrorReason(e)}`)
  }
  try {
    return keyPairFromGoPrivateKey(decodePrivateKeyText(text))
  } catch (e) {
    throw new PipelockError('KEY_INVALID', `${label}: ${file}: ${(e as Error).message}`, withHint)
  }
}
