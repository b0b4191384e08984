import {readFileSync, statSync} from 'node:fs'
import {osErrorReason, PipelockError} from '../errors/index.js'
import {keyPairFromGoPrivateKey, type Ed25519KeyPair} from './ed25519.js'
import {decodePrivateKeyText, keyTextKind, PUBLIC_KEY_HEADER} from './key-text.js'
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
  // Read once, before the mode check: a public key (0644 by design) given here would otherwise be
  // told to chmod 640; it is said what it is. A read failure is reported after the mode check, as
  // before.
  let text: string | undefined
  let readError: unknown
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    readError = e
  }
  if (text !== undefined && keyTextKind(text) === 'public') {
    throw new PipelockError(
      'KEY_INVALID',
      `${label}: ${file} is a public key (${PUBLIC_KEY_HEADER}), not a private key: pass the private key file (keygen writes it beside the .pub, as id_ed25519)`,
      withHint,
    )
  }
  try {
    checkPrivateKeyMode(file, st.mode)
  } catch (e) {
    if (e instanceof PipelockError) throw new PipelockError(e.code, `${label}: ${e.message}`)
    throw e
  }
  if (text === undefined) throw new PipelockError('FILE_UNREADABLE', `${label}: ${file}: ${osErrorReason(readError)}`)
  try {
    return keyPairFromGoPrivateKey(decodePrivateKeyText(text))
  } catch (e) {
    const own = e instanceof PipelockError ? e.hint : undefined
    throw new PipelockError('KEY_INVALID', `${label}: ${file}: ${(e as Error).message}`, hint === undefined && own !== undefined ? {hint: own} : withHint)
  }
}
