const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EFBIG: 'file too large',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
}

/** Why a file operation failed, in words, without Node's "EFBIG: file too large, write" syscall noise. */
export function osErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code
  return (code === undefined ? undefined : REASONS[code]) ?? code ?? (e instanceof Error ? e.message : String(e))
}
