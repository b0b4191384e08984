import {Flags} from '@oclif/core'
import {AdminCommand, adminFlags, sessionKeyArg} from '../../cli/admin-command.js'
import {RECOVERY_CHOICES, promptRecoveryChoice, recoverSession, type RecoveryChoice, type RecoverResult} from '../../plugins/admin-client/index.js'

export default class SessionRecover extends AdminCommand {
  static override summary = 'Guided recovery of a quarantined session: inspect, explain, then release, terminate or leave it'
  static override description = `Prints "== inspect ==" (as session inspect), a blank line, "== explain ==" (as session explain), then applies one action:

  1) release to none   2) release to soft   3) terminate (destructive)   4) leave as-is

--choice picks the action without asking; --json prints only {"key", "action"} and never asks. Otherwise, on a terminal, a menu "Choose recovery action:" asks for it. With --no-prompt, or when stdin or stdout is not a terminal (CI, pipes, cron), nothing is changed: "no action selected; leaving <key> unchanged". Releases refuse to raise the tier (exit 2), like session release. When the server rate limits the inspect or explain read (10 a minute each), that part of the report is left out with a line on stderr and the action is still applied: reads made earlier never lock out a recovery.`
  static override examples = [
    {description: 'Interactive (on a terminal)', command: `<%= config.bin %> session recover 'my-agent|10.0.0.5' --api-url 127.0.0.1:9090`},
    {description: 'Scripted: release to none', command: `<%= config.bin %> session recover 'my-agent|10.0.0.5' --choice release-none --api-url 127.0.0.1:9090`},
    {description: 'Report only, never prompt', command: `<%= config.bin %> session recover 'my-agent|10.0.0.5' --no-prompt --api-url 127.0.0.1:9090`},
    {description: 'Scripted, with the outcome as JSON ({"key": …, "action": …})', command: `<%= config.bin %> session recover 'my-agent|10.0.0.5' --choice terminate --json --api-url 127.0.0.1:9090`},
  ]
  static override enableJsonFlag = true
  static override args = sessionKeyArg
  static override flags = {
    ...adminFlags,
    choice: Flags.string({description: 'recovery action to apply without asking', options: [...RECOVERY_CHOICES]}),
    'no-prompt': Flags.boolean({description: 'never show the menu; without --choice nothing is changed', default: false}),
  }

  async run(): Promise<RecoverResult> {
    const {args, flags} = await this.parse(SessionRecover)
    const choice = flags.choice as RecoveryChoice | undefined
    // A menu only when someone can answer it: never block CI waiting on a closed stdin.
    const interactive = choice === undefined && !flags['no-prompt'] && !this.jsonEnabled() && process.stdin.isTTY === true && process.stdout.isTTY === true
    return await this.withAdminClient(flags, async (c) =>
      await recoverSession(c, args.key, {
        out: (l) => this.out(l),
        warn: (l) => this.err(l),
        choose: async () => (choice !== undefined ? choice : interactive ? await promptRecoveryChoice() : undefined),
        nowNs: () => this.nowNs(),
      }),
    )
  }
}
