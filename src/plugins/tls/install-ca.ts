/**
 * `pipelock tls install-ca` (transports.md §2.3): the reference's per-OS instructions, byte for
 * byte, then the runtime hints agents need (an addition: Node ignores the system store). With
 * `--apply` the same commands are run (Linux and macOS; Windows prints only).
 */
import {strconvQuote} from '../canonical/index.js'

/** `process.platform` → the reference's GOOS words. */
export function goos(platform: string): string {
  return platform === 'win32' ? 'windows' : platform
}

/** The reference's text, one entry per line. */
export function installInstructions(platform: string, certPath: string): string[] {
  const q = strconvQuote(certPath)
  switch (goos(platform)) {
    case 'linux':
      return [
        'Installing CA certificate on Linux...', '', 'Run one of the following (requires root):', '',
        '  # Debian/Ubuntu:', `  sudo cp ${q} /usr/local/share/ca-certificates/pipelock-ca.crt`, '  sudo update-ca-certificates', '',
        '  # RHEL/Fedora:', `  sudo cp ${q} /etc/pki/ca-trust/source/anchors/pipelock-ca.crt`, '  sudo update-ca-trust extract',
      ]
    case 'darwin':
      return ['Installing CA certificate on macOS...', '', 'Run (requires admin password):', '', `  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${q}`]
    case 'windows':
      return ['Installing CA certificate on Windows...', '', 'Run in elevated Command Prompt:', '', `  certutil -addstore -f "ROOT" ${q}`]
    default:
      return [`Unsupported OS: ${goos(platform)}`, `Manually add ${q} to your system trust store.`]
  }
}

/** Hints for agent runtimes that do not read the system store (not in the reference). */
export function runtimeHints(certPath: string): string[] {
  return [
    '',
    'Agent runtimes that do not read the system store:',
    `  Node.js:          NODE_EXTRA_CA_CERTS=${certPath}`,
    `  Python requests:  REQUESTS_CA_BUNDLE=${certPath}`,
    `  curl:             --cacert ${certPath} (or CURL_CA_BUNDLE=${certPath})`,
    `  Go:               the system store, or SSL_CERT_FILE=${certPath}`,
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
