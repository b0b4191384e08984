// oclif's help, with one difference: `pipelock <unknown command> --help` (and `pipelock help
// <unknown>`) is answered as the unknown command itself is (src/hooks/command-not-found.ts: the
// closest command, or why a reference command is absent; exit 127), not with oclif's bare
// "Command … not found." And `pipelock check extra --help` shows the help of `check`, as
// `pipelock keygen a b --help` shows that of `keygen` (src/cli/stray-argument.ts).
import {Help} from '@oclif/core'
import {commandWithStrayArguments} from './stray-argument.js'

const NOT_FOUND = /^Command (\S+) not found\.$/

export default class PipelockHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv)
    } catch (err) {
      const m = NOT_FOUND.exec((err as Error).message)
      if (m === null) throw err
      const stray = commandWithStrayArguments(m[1] as string, this.config)
      if (stray !== undefined) return super.showHelp([stray.id])
      // The hook prints the report and exits.
      await this.config.runHook('command_not_found', {id: m[1] as string, argv: argv.filter((a) => a !== '--help' && a !== '-h' && a !== 'help')})
      throw err
    }
  }
}
