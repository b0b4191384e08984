/**
 * The pre-push hook `pipelock git install-hooks` writes (containment.md §4.4): POSIX sh, values
 * single-quoted. git runs it with the remote name and URL as arguments and one line per ref on
 * stdin; it hands both to `pipelock git scan-push`, which scans each commit of the push and
 * checks the branches (docs/git-protection.md).
 */
import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {PipelockError, shellQuote} from '../errors/index.js'

export function prePushHook(binary: string, config: string | undefined): string {
  const bin = shellQuote(binary)
  return [
    '#!/bin/sh',
    '# pipelock pre-push hook: scans the commits being pushed for secrets and checks the branch',
    '# (installed by `pipelock git install-hooks`; see docs/git-protection.md).',
    `if ! command -v ${bin} >/dev/null 2>&1; then`,
    '  echo "ERROR: pipelock not found in PATH. Install pipelock or remove this hook." >&2',
    '  echo "  rm \\"$0\\"" >&2',
    '  exit 1',
    'fi',
    `exec ${bin} git scan-push${config !== undefined ? ` --config ${shellQuote(config)}` : ''} -- "$1" "$2"`,
    '',
  ].join('\n')
}

/** The git directory of the repository containing `from` (walks up; a `.git` file names it). */
export function findGitDir(from: string): string {
  let dir = path.resolve(from)
  for (;;) {
    const dotgit = path.join(dir, '.git')
    if (existsSync(dotgit)) {
      if (statSync(dotgit).isDirectory()) return dotgit
      let text: string
      try {
        text = readFileSync(dotgit, 'utf8').trim()
      } catch (e) {
        throw new PipelockError('FILE_UNREADABLE', `reading .git file: ${(e as Error).message}`)
      }
      if (!text.startsWith('gitdir: ')) throw new PipelockError('GIT_NOT_A_REPOSITORY', `invalid .git file: expected 'gitdir: <path>', got ${JSON.stringify(text)}`)
      const gd = path.resolve(dir, text.slice('gitdir: '.length).trim())
      if (!existsSync(gd) || !statSync(gd).isDirectory()) throw new PipelockError('GIT_NOT_A_REPOSITORY', `gitdir path "${gd}" does not exist or is not a directory`)
      // A linked worktree's hooks live in the common directory.
      const common = path.join(gd, 'commondir')
      return existsSync(common) ? path.resolve(gd, readFileSync(common, 'utf8').trim()) : gd
    }
    const up = path.dirname(dir)
    if (up === dir) throw new PipelockError('GIT_NOT_A_REPOSITORY', 'not a git repository (no .git directory found)')
    dir = up
  }
}
