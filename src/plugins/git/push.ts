/**
 * `pipelock git scan-push` (containment.md §4.4–§4.5): what git's pre-push hook hands over — one
 * line per ref, `<local ref> <local id> <remote ref> <remote id>` — checked ref by ref: the
 * destination branch against `allowed_branches` (when `git_protection` is enabled), and every
 * commit the push sends (`git log -p` of the range, so a key added in one commit and removed in
 * the next is still found; merges as combined diffs, binary files as text) through the DLP scanner.
 */
import {spawnSync} from 'node:child_process'
import type {PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import type {Scanner} from '../scanner/index.js'
import {allowedBranches, branchOfRef, branchRefusal} from './branches.js'
import {scanCommitMessages, scanDiff, type DiffFinding} from './diff-scan.js'
import {isZeroId} from './receive-pack.js'

export interface PushRef {
  readonly localRef: string
  readonly localId: string
  readonly remoteRef: string
  readonly remoteId: string
}

export interface PushRefResult extends PushRef {
  /** Why the branch is refused (null: allowed, not a branch, or the check is off). */
  readonly refused: string | null
  readonly findings: readonly DiffFinding[]
  /** Commits scanned. */
  readonly commits: number
}

export interface PushScan {
  readonly refs: readonly PushRefResult[]
  readonly blocked: boolean
}

/**
 * Git diff output larger than this is refused, failing closed (the reference's scan-diff limit):
 * binary files are scanned as text, so a push of large binaries can reach it.
 */
export const MAX_DIFF_BYTES = 100 * 1024 * 1024

export function parsePushLines(input: string): PushRef[] {
  const out: PushRef[] = []
  for (const l of input.split('\n')) {
    const t = l.trim()
    if (t === '') continue
    const f = t.split(/\s+/)
    if (f.length !== 4) throw new PipelockError('USAGE', `pre-push input line ${JSON.stringify(t)}: want "<local ref> <local id> <remote ref> <remote id>"`)
    out.push({localRef: f[0]!, localId: f[1]!, remoteRef: f[2]!, remoteId: f[3]!})
  }
  return out
}

export function scanPush(c: PipelockConfig, scanner: Pick<Scanner, 'scanTextForDlp'>, refs: readonly PushRef[], o: {cwd: string; remote?: string; maxDiffBytes?: number}): PushScan {
  const maxDiffBytes = o.maxDiffBytes ?? MAX_DIFF_BYTES
  const gp = c.git_protection
  const patterns = allowedBranches(c)
  const results: PushRefResult[] = []
  for (const r of refs) {
    // A deletion sends no commits and is not checked.
    if (isZeroId(r.localId)) continue
    const branch = branchOfRef(r.remoteRef)
    const refused = gp.enabled && branch !== null ? branchRefusal(branch, patterns) : null
    let findings: DiffFinding[] = []
    let commits = 0
    if (!gp.enabled || gp.pre_push_scan) {
      const range = isZeroId(r.remoteId) ? [r.localId, '--not', o.remote !== undefined && o.remote !== '' ? `--remotes=${o.remote}` : '--remotes'] : [`${r.remoteId}..${r.localId}`]
      const gitLog = (format: string[]): string => {
        // Not `git log` as the repository configures it: replace refs would show other objects
        // than the ones pushed, and a low core.bigFileThreshold would turn files into binary ones.
        const log = spawnSync('git', ['--no-replace-objects', '-c', 'core.bigFileThreshold=4g', 'log', ...format, ...range, '--'], {cwd: o.cwd, maxBuffer: maxDiffBytes, encoding: 'utf8'})
        if (log.error !== undefined) {
          if ((log.error as NodeJS.ErrnoException).code === 'ENOBUFS') throw new PipelockError('GIT_SCAN_FAILED', `git log ${range.join(' ')}: the pushed commits' diff is larger than ${maxDiffBytes} bytes, the most the hook scans; the push is refused unscanned (push fewer commits at a time, or keep files this large out of git)`)
          throw new PipelockError('GIT_SCAN_FAILED', `git log ${range.join(' ')}: ${log.error.message}`)
        }
        if (log.status !== 0) throw new PipelockError('GIT_SCAN_FAILED', `git log ${range.join(' ')}: ${log.stderr.trim()}`)
        return log.stdout
      }
      // --cc: a merge's combined diff, the lines of the result that are in neither parent (a
      // conflict resolved with new text, an "evil" merge) and the conflict hunks; the lines it
      // took unchanged from a parent are left out, being scanned in that parent's own commits
      // (or already on the remote). -m / first-parent would rescan the whole merged branch.
      // --text: files git takes for binary (a NUL byte, `-diff` in .gitattributes) are sent
      // all the same, so their added lines are scanned like any text. --root: the first commit's
      // files even where log.showRoot is off. The prefixes are fixed whatever diff.noprefix says.
      const diff = gitLog(['-p', '--cc', '--text', '--root', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative', '--src-prefix=a/', '--dst-prefix=b/', '--format=commit %H'])
      // The messages too, read apart: a message line is never taken for a diff header.
      findings = [...scanCommitMessages(scanner, gitLog(['--no-color', '--format=%H%x00%B%x00'])), ...scanDiff(scanner, diff)]
      commits = diff.split('\n').filter((l) => /^commit [0-9a-f]{40}$/.test(l)).length
    }
    results.push({...r, refused, findings, commits})
  }
  return {refs: results, blocked: results.some((r) => r.refused !== null || r.findings.length > 0)}
}

/** The stderr report of a scan (one block per refused ref / finding). */
export function renderPushScan(s: PushScan): string[] {
  const out: string[] = []
  for (const r of s.refs) {
    if (r.refused !== null) out.push(`pipelock: push to ${r.remoteRef} refused: ${r.refused}`)
    for (const f of r.findings) out.push(`pipelock: ${f.commit !== undefined ? `${f.commit.slice(0, 12)} ` : ''}${f.file}:${f.line}  ${f.pattern} (${f.severity})`)
  }
  if (s.blocked) {
    const n = s.refs.reduce((a, r) => a + r.findings.length, 0)
    if (n > 0) out.push(`pipelock: found ${n} secret(s) in the commits being pushed`)
    out.push('Push blocked by pipelock. Fix the issues above, then try again.')
  } else out.push(`pipelock: push checked: ${s.refs.length} ref(s), ${s.refs.reduce((a, r) => a + r.commits, 0)} commit(s), no secrets found`)
  return out
}
