import type {Command, Config} from '@oclif/core'

/**
 * The command a not-found id starts with, when the words after it are stray arguments. oclif,
 * with a space as the topic separator, folds every word after a command that declares no
 * arguments into the command id (`check pipelock.yaml` becomes `check:pipelock.yaml`); that is
 * a usage error of `check`, not an unknown command. Only a command without arguments counts:
 * oclif stops folding at one that takes some, so a longer id there is a mistyped subcommand.
 */
export function commandWithStrayArguments(id: string, config: Pick<Config, 'findCommand'>): Command.Loadable | undefined {
  const words = id.split(':')
  for (let n = words.length - 1; n >= 1; n--) {
    const cmd = config.findCommand(words.slice(0, n).join(':'))
    if (cmd === undefined) continue
    return cmd.strict !== false && Object.keys(cmd.args ?? {}).length === 0 ? cmd : undefined
  }
  return undefined
}
