import path from 'node:path'
import {PipelockError} from '../errors/index.js'

// Store layout and the hash → file-name rule (learn-lifecycle §5.1, §5.2). A hash is checked
// before it is ever joined into a path, so a crafted selector cannot name a file outside its folder.

export interface StoreLayout {
  root: string
  active: string
  manifests: string
  history: string
  tombstones: string
  journal: string
  lock: string
  receipts: string
}

export function storeLayout(root: string): StoreLayout {
  return {
    root,
    active: path.join(root, 'active.json'),
    manifests: path.join(root, 'manifests'),
    history: path.join(root, 'history'),
    tombstones: path.join(root, 'tombstones'),
    journal: path.join(root, '.activation_journal.jsonl'),
    lock: path.join(root, '.lock'),
    receipts: path.join(root, 'activation-receipts.jsonl'),
  }
}

export const HISTORY_PREFIX = 'contract store: contract history invalid: '

/** `validateHash`: `sha256:` + exactly 64 lowercase hex; returns the hex. */
export function storeHashHex(hash: string): string {
  if (!hash.startsWith('sha256:')) throw historyError(`hash ${JSON.stringify(hash)} missing "sha256:" prefix`)
  const hex = hash.slice('sha256:'.length)
  if (hex.length !== 64) throw historyError(`hash ${JSON.stringify(hash)} length ${hex.length}, want 64 hex chars`)
  if (!/^[0-9a-f]{64}$/.test(hex)) throw historyError(`hash ${JSON.stringify(hash)} is not lowercase hex`)
  return hex
}

export function isStoreHash(hash: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(hash)
}

/** `<dir>/sha256-<hex><ext>`, refusing anything that would leave `dir`. */
export function objectPath(dir: string, hash: string, ext: string): string {
  const p = path.join(dir, `sha256-${storeHashHex(hash)}${ext}`)
  if (path.dirname(p) !== path.resolve(dir) && path.dirname(p) !== dir) throw historyError(`object path escapes ${dir}: ${p}`)
  return p
}

export function historyError(detail: string): PipelockError {
  return new PipelockError('STORE_HISTORY_INVALID', HISTORY_PREFIX + detail)
}
