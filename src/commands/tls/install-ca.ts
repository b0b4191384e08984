import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {resolveKeystoreDir} from '../../plugins/signing/index.js'
import {caPaths, goos, installCommands, installInstructions, pastablePath, requireCaCert, runtimeHints, shellWord} from '../../plugins/tls/index.js'

export default class TlsInstallCa extends BaseCommand {
  static override summary = 'Show (or, with --apply, run) the commands that trust the CA system-wide'
  static override description = `Prints the commands that add the interception CA to this system's trust store, and how to point agent runtimes that ignore the system store (Node, Python requests, curl) at it. Paths in the printed commands are quoted for a POSIX shell (single quotes where the reference's double quotes would let the shell expand $, backquotes or !), so pasting a command runs only that command; a path holding a control character is refused. Nothing is changed unless --apply is given; --apply runs the printed commands (Linux: Debian/Ubuntu or RHEL/Fedora family detected from the system; macOS), through sudo unless already root.`

  static override examples = [
    '<%= config.bin %> tls install-ca',
    'sudo <%= config.bin %> tls install-ca --cert /etc/pipelock/ca.pem --apply',
  ]

  static override flags = {
    cert: Flags.string({description: 'CA certificate file (default <home>/ca.pem)'}),
    home: Flags.string({description: 'pipelock home directory (default $PIPELOCK_HOME or ~/.pipelock)'}),
    apply: Flags.boolean({description: 'run the commands instead of printing them', default: false}),
    platform: Flags.string({description: 'platform whose instructions to print (default: this one)', hidden: true}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(TlsInstallCa)
    const platform = flags.platform ?? process.platform
    const cert = pastablePath(platform, flags.cert ?? caPaths(resolveKeystoreDir({home: flags.home, env: process.env, userHome: homedir()})).cert)
    requireCaCert(cert)
    if (!flags.apply) {
      for (const line of [...installInstructions(platform, cert), ...runtimeHints(cert)]) this.out(line)
      return
    }
    const family = existsSync('/usr/sbin/update-ca-certificates') || existsSync('/usr/local/share/ca-certificates') ? 'debian' : 'rhel'
    const cmds = installCommands(platform, cert, family, process.getuid?.() === 0)
    if (cmds === null) throw new PipelockError('NOT_IMPLEMENTED', `--apply is not supported on ${goos(platform)}; add ${cert} to the trust store by hand`, {hint: 'run without --apply to see the instructions'})
    for (const argv of cmds) {
      this.out(`+ ${argv.map(shellWord).join(' ')}`)
      const r = spawnSync(argv[0]!, argv.slice(1), {stdio: 'inherit'})
      if (r.status !== 0) throw new PipelockError('WRITE_FAILED', `install CA: ${argv.join(' ')} ${r.error ? `failed: ${r.error.message}` : `exited with status ${r.status}`}`)
    }
    this.out(`CA ${cert} added to the system trust store.`)
  }
}
