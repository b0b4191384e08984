import {createHmac} from 'node:crypto'
import {lstatSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {osErrorReason, PipelockError} from '../errors/index.js'

// learn-compile §16: the salt behind `learn.privacy.salt_source`, resolved at use time, and the
// HMAC that stands in for `internal` / `sensitive` values in what capture writes. The reference
// has this enforcer as a library and never wires it (its captures hold samples in clear); ours
// is wired into capture, and a missing salt fails closed (the value is left out, never written).

/** The salt, or undefined when the source is unset (`""`). Throws on a source that cannot be read. */
export function resolveSalt(source: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const bad = (why: string): PipelockError => new PipelockError('CONFIG_INVALID', `learn.privacy.salt_source: ${why}`)
  if (source === '') return undefined
  const envRef = /^\$\{(.*)\}$/.exec(source)
  if (envRef !== null) {
    const name = envRef[1]!
    if (name === '' || name.trim() !== name) throw bad('environment variable name must be non-empty without surrounding whitespace')
    const v = env[name]
    if (v === undefined || v === '') throw bad(`environment variable ${name} is unset or empty`)
    return v
  }
  if (source.startsWith('file:')) {
    const p = source.slice('file:'.length)
    if (!path.isAbsolute(p) || path.normalize(p) !== p || p.endsWith('/')) throw bad(`file path must be absolute and clean, got ${JSON.stringify(p)}`)
    let st
    try {
      st = lstatSync(p)
    } catch (e) {
      throw bad(`${p}: ${osErrorReason(e)}`)
    }
    if (st.isSymbolicLink()) throw bad(`${p} must not be a symlink`)
    if (!st.isFile()) throw bad(`${p} must be a regular file`)
    if ((st.mode & 0o077) !== 0) throw bad(`${p} must not be readable by group or others (chmod 600)`)
    let text = readFileSync(p, {encoding: 'utf8', flag: 'r'})
    if (text.endsWith('\r\n')) text = text.slice(0, -2)
    else if (text.endsWith('\n')) text = text.slice(0, -1)
    if (text === '') throw bad(`${p} is empty`)
    return text
  }
  // A literal salt (development and tests only). One that reads as a path was meant as a file:
  // the reference keys every capture with the path's own text, guessable and in the config in
  // clear; refused here (docs/compatibility.md).
  if (/^(\/|\.\.?\/|~\/)/.test(source)) {
    throw bad(`${JSON.stringify(source)} looks like a file path, which would be used as the salt's own text; write file:${source.startsWith('/') ? source : '/absolute/path'} to read the salt from that file, or \${VAR} to read it from an environment variable`)
  }
  return source
}

/** Lower-case hex HMAC-SHA256(key = salt, msg = value) (§16 `internal`). */
export function saltedHmac(salt: string, value: string): string {
  return createHmac('sha256', salt).update(value, 'utf8').digest('hex')
}
