// Go formatting used in the signing error texts: `%q` (strconv.Quote) and os.FileMode.
import {strconvQuote as goQ} from '../canonical/index.js'

export {goQ}

/** `%04o` of the permission bits, as in `has permissions 0644`. */
export function octalPerm(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0')
}

/** Go's os.FileMode.String() for a node:fs mode (type letters + rwxrwxrwx). */
export function goFileMode(mode: number): string {
  const type = mode & 0o170000
  let prefix = ''
  switch (type) {
    case 0o040000: prefix = 'd'; break
    case 0o120000: prefix = 'L'; break
    case 0o060000: prefix = 'D'; break
    case 0o020000: prefix = 'Dc'; break
    case 0o010000: prefix = 'p'; break
    case 0o140000: prefix = 'S'; break
  }
  if (mode & 0o4000) prefix += 'u'
  if (mode & 0o2000) prefix += 'g'
  if (mode & 0o1000) prefix += 't'
  const rwx = 'rwxrwxrwx'
  let perm = ''
  for (let i = 0; i < 9; i++) perm += mode & (1 << (8 - i)) ? rwx[i] : '-'
  return (prefix === '' ? '-' : prefix) + perm
}

/** A failed read of an input file: missing (FILE_NOT_FOUND), or there but not readable (a directory, no permission). */
export function readFailureCode(err: unknown): 'FILE_NOT_FOUND' | 'FILE_UNREADABLE' {
  const code = (err as {code?: string}).code
  return code === 'ENOENT' || code === 'ENOTDIR' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE'
}

/** Go-style text for the common errno values ("no such file or directory" etc.). */
export function goErrnoText(err: unknown): string {
  const code = (err as {code?: string}).code
  switch (code) {
    case 'ENOENT': return 'no such file or directory'
    case 'EACCES': return 'permission denied'
    case 'EISDIR': return 'is a directory'
    case 'ENOTDIR': return 'not a directory'
    case 'ELOOP': return 'too many levels of symbolic links'
    case 'EEXIST': return 'file exists'
    default: return err instanceof Error ? err.message : String(err)
  }
}
