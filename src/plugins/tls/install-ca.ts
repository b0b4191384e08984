/**
 * `pipelock tls install-ca` (transports.md §2.3): the reference's per-OS instructions, byte for
 * byte, then the runtime hints agents need (an addition: Node ignores the system store). With
 * `--apply` the same commands are run (Linux and macOS; Windows prints only).
 */
import {strconvQuote} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'

/** `process.platform` → the reference's GOOS words. */
export function goos(platform: string): string {
  return platform === 'win32' ? 'windows' : platform
}

// No POSIX shell (bash and zsh included) gives any of these a meaning in an unquoted word.
const SH_BARE = /^[A-Za-z0-9_@+:,./-]+$/

/** `s` as one POSIX sh word, safe to paste: bare when nothing in it is special, else single-quoted (`'` as `'\\''`). */
export function shellWord(s: string): string {
  return SH_BARE.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/**
 * The path in a command line the user pastes into sh: the reference's Go `%q` where sh reads
 * that as the same path, single-quoted otherwise. Inside double quotes sh still runs `$(…)` and
 * backquotes and expands `$`, interactive bash expands `!`, and Go's `\x..` escapes are not sh's:
 * the reference's text ran a command substitution held in the path.
 */
function posixPath(p: string): string {
  const q = strconvQuote(p)
  return q === `"${p}"` && !/[$`!]/.test(p) ? q : shellWord(p)
}

/**
 * Refuses a certificate path no printed command can carry safely: a control character (raw on
 * the terminal it can rewrite what is shown; no POSIX quoting spells it), and for the Command
 * Prompt line a `"` (Go's `\"` does not escape it there) or a `%` (cmd expands `%VAR%` even
 * inside double quotes). The command hands it an absolute path (cli/path-inputs.ts), so it never
 * starts with `-`.
 */
export function pastablePath(platform: string, certPath: string): string {
  const refuse = (why: string): PipelockError =>
    new PipelockError('USAGE', `the CA certificate path ${strconvQuote(certPath)} ${why}`, {hint: 'copy or link the certificate to a plain path and pass it with --cert'})
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(certPath)) throw refuse('holds a control character, which a printed command cannot carry')
  if (goos(platform) === 'windows' && /["%]/.test(certPath)) throw refuse('holds " or %, which a Command Prompt command line cannot carry')
  return certPath
}

/**
 * The reference's text, one entry per line; paths quoted so that pasting a command runs only that
 * command. The heading says nothing was installed (the reference's "Installing CA certificate on
 * Linux..." claimed the opposite, compatibility.md T3a).
 */
export function installInstructions(platform: string, certPath: string): string[] {
  const q = ['linux', 'darwin'].includes(goos(platform)) ? posixPath(certPath) : strconvQuote(certPath)
  switch (goos(platform)) {
    case 'linux':
      return [
        'How to trust the CA certificate on Linux (nothing was installed; --apply runs these commands):', '', 'Run one of the following (requires root):', '',
        '  # Debian/Ubuntu:', `  sudo cp ${q} /usr/local/share/ca-certificates/pipelock-ca.crt`, '  sudo update-ca-certificates', '',
        '  # RHEL/Fedora:', `  sudo cp ${q} /etc/pki/ca-trust/source/anchors/pipelock-ca.crt`, '  sudo update-ca-trust extract',
      ]
    case 'darwin':
      return ['How to trust the CA certificate on macOS (nothing was installed; --apply runs this command):', '', 'Run (requires admin password):', '', `  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${q}`]
    case 'windows':
      return ['How to trust the CA certificate on Windows (nothing was installed):', '', 'Run in elevated Command Prompt:', '', `  certutil -addstore -f "ROOT" ${q}`]
    default:
      return [`Unsupported OS: ${goos(platform)}`, `Manually add ${q} to your system trust store.`]
  }
}

/** Hints for agent runtimes that do not read the system store (not in the reference). */
export function runtimeHints(certPath: string): string[] {
  const w = shellWord(certPath)
  return [
    '',
    'Agent runtimes that do not read the system store:',
    `  Node.js:          NODE_EXTRA_CA_CERTS=${w}`,
    `  Python requests:  REQUESTS_CA_BUNDLE=${w}`,
    `  curl:             --cacert ${w} (or CURL_CA_BUNDLE=${w})`,
    `  Go:               the system store, or SSL_CERT_FILE=${w}`,
  ]
}

/**
 * The commands `--apply` runs, as argv lists, for this platform and Linux family; null when
 * the platform has no automatic install. `root` drops the `sudo` prefix.
 */
export function installCommands(platform: string, certPath: string, linuxFamily: 'debian' | 'rhel', root: boolean): string[][] | null {
  const sudo = (argv: string[]): string[] => (root ? argv : ['sudo', ...argv])
  switch (goos(platform)) {
    case 'linux':
      return linuxFamily === 'debian'
        ? [sudo(['cp', certPath, '/usr/local/share/ca-certificates/pipelock-ca.crt']), sudo(['update-ca-certificates'])]
        : [sudo(['cp', certPath, '/etc/pki/ca-trust/source/anchors/pipelock-ca.crt']), sudo(['update-ca-trust', 'extract'])]
    case 'darwin':
      return [sudo(['security', 'add-trusted-cert', '-d', '-r', 'trustRoot', '-k', '/Library/Keychains/System.keychain', certPath])]
    default:
      return null
  }
}
