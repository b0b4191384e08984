import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {PipelockError} from '../errors/index.js'
import type {Ed25519KeyPair} from './ed25519.js'
import {KEY_FILE_SIZE_CAP, loadKeyFile} from './key-file.js'
import {loadAgentPrivateKey} from './keystore.js'
import type {KeyPurpose} from './purposes.js'

/** A signer's private key and the id a roster knows it by. */
export type SignerKey = Readonly<{keyId: string; keyPair: Ed25519KeyPair; publicKeyHex: string}>

/**
 * A signer named on the command line (`--activation-key` and the like): a keystore key id
 * (`agents/<id>/id_ed25519`), or a deployment key file of `purpose` from `signing key generate`,
 * by its path or by its `key_id` among the key files at the top of the keystore directory. Its
 * key id is then the file's `key_id`. One resolver, so every command accepts the same forms.
 */
export function loadSignerKeyRef(keystore: string, ref: string, purpose: KeyPurpose): SignerKey {
  const fromFile = (file: string): SignerKey => loadKeyFile(file, purpose)
  if (ref.includes('/') || ref.endsWith('.json')) return fromFile(ref)
  try {
    return {keyId: ref, ...loadAgentPrivateKey(keystore, ref)}
  } catch (e) {
    if (!(e instanceof PipelockError) || e.code !== 'FILE_NOT_FOUND') throw e
    const file = keyFileWithId(keystore, ref)
    if (file === undefined) throw e
    return fromFile(file)
  }
}

/** The JSON key file at the top of `dir` whose `key_id` is `id` (files that are not key files are passed over). */
function keyFileWithId(dir: string, id: string): string | undefined {
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort()
  } catch {
    return undefined
  }
  for (const n of names) {
    const file = path.join(dir, n)
    try {
      if (statSync(file).size > KEY_FILE_SIZE_CAP) continue
      const v = JSON.parse(readFileSync(file, 'utf8')) as {key_id?: unknown}
      if (v !== null && typeof v === 'object' && v.key_id === id) return file
    } catch {
      // not a key file: passed over
    }
  }
  return undefined
}
