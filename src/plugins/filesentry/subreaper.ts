/**
 * Keeps a daemonised descendant inside the wrapped process tree (containment.md §3.4, Q-F3) on
 * Linux: the wrapped process is made a child subreaper (prctl PR_SET_CHILD_SUBREAPER) before it
 * runs its command, so a grandchild whose parent exits (`(writer &)`, a double fork, `setsid`) is
 * re-parented to the wrapped process instead of init, and the `/proc` lineage walk from the
 * tracked root still reaches it.
 *
 * Why this way: Node has no prctl binding and the project takes no native addon (it would need a
 * compiler or prebuilt binaries at install). The flag survives execve(2), so a tiny launcher that
 * sets it on itself and then execs the command in place is enough; perl's built-in `syscall` is
 * that launcher, and perl-base is Essential on Debian (present on every install, no package to
 * add). The exec keeps the pid, the stdio, the exit status and the signals exactly as a direct
 * spawn would; nothing stays between pipelock and the command. `tini -s` (the Debian package
 * tini) would do the same as a separate process, but it is not installed by default and it exits
 * as soon as its direct child does, handing the orphans on to init. `unshare --pid --fork` and
 * bubblewrap need user namespaces (refused by Docker's default seccomp profile); the subreaper
 * needs no privilege at all. `pipelock sandbox` with bubblewrap needs none of this: the PID
 * namespace's init (bubblewrap's pid 1) adopts the orphans and is itself a descendant of the
 * spawned bwrap.
 *
 * The cost, documented in docs/file-sentry.md: an adopted orphan that exits stays a zombie until
 * the wrapped process reaps it or exits (most runtimes wait only for their own children).
 */
import {accessSync, constants} from 'node:fs'
import path from 'node:path'

const PR_SET_CHILD_SUBREAPER = 36

/** prctl's syscall number per Node architecture (asm-generic for the newer ports). */
const PRCTL_NR: Readonly<Partial<Record<string, number>>> = {x64: 157, arm64: 167, riscv64: 167, loong64: 167, ia32: 172, arm: 172, s390x: 172, ppc64: 171}

/** Fixed locations: the launcher is not looked up on the (agent-influenced) PATH. */
const PERL = ['/usr/bin/perl', '/bin/perl']

export interface SubreaperLaunch {
  readonly file: string
  readonly args: readonly string[]
}

export type SubreaperResult = {readonly ok: true; readonly launch: SubreaperLaunch} | {readonly ok: false; readonly reason: string}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The command as execvp would find it on `pathVar` (undefined when it would not). */
export function resolveCommand(command: string, pathVar: string | undefined): string | undefined {
  if (command.includes('/')) return executable(command) ? command : undefined
  for (const dir of (pathVar ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.join(dir === '' ? '.' : dir, command)
    if (executable(p)) return p
  }
  return undefined
}

/**
 * `perl -e <set subreaper; exec>` around `command args`. Perl dies (exit 255, one stderr line)
 * rather than run the command unattributed when prctl fails. Not ok (the caller warns and spawns
 * the command as is): off Linux, on an architecture without a known prctl number, without perl,
 * or when the command cannot be found (so spawn's own "not found" path still reports it).
 */
export function subreaperLaunch(command: string, args: readonly string[], env: Readonly<Record<string, string | undefined>>, platform: string = process.platform, arch: string = process.arch): SubreaperResult {
  if (platform !== 'linux') return {ok: false, reason: 'child subreaper needs Linux'}
  const nr = PRCTL_NR[arch]
  if (nr === undefined) return {ok: false, reason: `no prctl syscall number known for ${arch}`}
  const perl = PERL.find(executable)
  if (perl === undefined) return {ok: false, reason: 'perl not found at /usr/bin/perl (Debian: perl-base)'}
  if (resolveCommand(command, env.PATH) === undefined) return {ok: false, reason: `command "${command}" not found`}
  const script = `syscall(${nr}, ${PR_SET_CHILD_SUBREAPER}, 1, 0, 0, 0) == 0 or die "pipelock: prctl(PR_SET_CHILD_SUBREAPER): $!\\n"; exec {$ARGV[0]} @ARGV; die "pipelock: exec $ARGV[0]: $!\\n";`
  return {ok: true, launch: {file: perl, args: ['-e', script, '--', command, ...args]}}
}
