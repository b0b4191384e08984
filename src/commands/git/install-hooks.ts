import {existsSync} from 'node:fs'
import path from 'node:path'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {writeOutputFile} from '../../cli/output-file.js'
import {makeDirs} from '../../plugins/signing/index.js'

export default class GitInstallHooks extends BaseCommand {
  static override summary = 'Install a git pre-push hook that runs pipelock git scan-push'
  static override description = `Writes .git/hooks/pre-push in the repository containing the current directory (a linked worktree's hook goes to the common git directory). The hook runs "pipelock git scan-push" on every git push: a commit carrying a secret, or a push to a branch outside git_protection.allowed_branches, stops the push. An agent that can delete the hook can skip it: run the agent in pipelock sandbox, where .git/hooks is not writable by design of your workspace layout, or check pushes on the proxy too (docs/git-protection.md).`

  static override examples = [
    {description: 'Install the hook with a config', command: '<%= config.bin %> git install-hooks --config /etc/pipelock/pipelock.yaml'},
    {description: 'Replace an existing hook, pointing at a pipelock outside PATH', command: '<%= config.bin %> git install-hooks --force --binary /usr/local/bin/pipelock'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    config: Flags.string({char: 'c', description: 'config file the hook passes to scan-push (made absolute)'}),
    binary: Flags.string({description: 'pipelock command the hook runs', default: 'pipelock'}),
    force: Flags.boolean({description: 'overwrite an existing pre-push hook'}),
  }

  async run(): Promise<{hook: string}> {
    const {flags} = await this.parse(GitInstallHooks)
    const {findGitDir, prePushHook} = await import('../../plugins/git/index.js')
    const {PipelockError} = await import('../../plugins/errors/index.js')
    const hooks = path.join(findGitDir(process.cwd()), 'hooks')
    const hook = path.join(hooks, 'pre-push')
    const exists = (): InstanceType<typeof PipelockError> => new PipelockError('FILE_EXISTS', `hook already exists at ${hook} (use --force to overwrite)`)
    if (existsSync(hook) && !flags.force) throw exists()
    // The config the hook will read is loaded now, as scan-push loads it: a missing or invalid
    // file is refused here, not found out at the first push (which it would then refuse).
    if (flags.config !== undefined) {
      const {loadConfig} = await import('../../plugins/config/index.js')
      loadConfig(flags.config, {env: process.env})
    }
    makeDirs(hooks, 0o750)
    // Whole or not at all: a hook cut short by a full disk would run half a script on every push.
    writeOutputFile(hook, prePushHook(flags.binary, flags.config === undefined ? undefined : path.resolve(flags.config)), 0o755, flags.force ? undefined : exists)
    this.out(`Installed pre-push hook at ${hook}`)
    return {hook}
  }
}
