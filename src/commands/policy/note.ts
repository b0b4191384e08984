import {Flags} from '@oclif/core'
import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {renderChangeNote, renderReload, requestReload, sendChangeNote, type ChangeNoteResult, type ReloadResult} from '../../plugins/admin-client/index.js'

export default class PolicyNote extends AdminCommand {
  static override summary = 'Attach an operator and justification to the next policy change (optionally reloading now)'
  static override description = `POST /api/v1/policy/change-note on the admin API: the note waits (15 minutes at most) for the next hot reload — file watch, SIGHUP or --reload — that changes the effective policy, whose config_change audit event then carries operator, justification and change_id, and whose signed receipt carries operator, change_id and the justification's SHA-256. A <config>.change file matching the loaded bytes takes precedence. With --reload the proxy re-reads its config file right away (POST /api/v1/policy/reload with the note).

Prints "change note pending until <time>: operator=… [change_id=…]", or with --reload "reload requested (change note attached)". Exit 2 for bad flags or a rejected token; 1 when the server cannot be reached or (with --reload) runs without a config file.`
  static override examples = [
    {description: 'Note for an edit you are about to save', command: `<%= config.bin %> policy note --operator alice --justification 'billing agent needs b.example (CHG-7)' --change-id CHG-7 --api-url 127.0.0.1:9090`},
    {description: 'Edit saved already: reload now with the note', command: `<%= config.bin %> policy note --operator alice --justification 'drop a.example after the migration' --reload --api-url 127.0.0.1:9090`},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...adminFlags,
    operator: Flags.string({description: 'who made the change', required: true}),
    justification: Flags.string({description: 'why (at most 4 KiB)', required: true}),
    'change-id': Flags.string({description: 'a ticket or change id (A-Z a-z 0-9 . _ -, at most 64)'}),
    reload: Flags.boolean({description: 'reload the config file now, with this note'}),
  }

  async run(): Promise<ChangeNoteResult | ReloadResult> {
    const {flags} = await this.parse(PolicyNote)
    const note = {operator: flags.operator, justification: flags.justification, ...(flags['change-id'] !== undefined ? {changeId: flags['change-id']} : {})}
    if (flags.reload) {
      const r = await this.withAdminClient(flags, async (c) => await requestReload(c, note))
      for (const l of renderReload(r.data)) this.out(l)
      return r.json
    }
    const r = await this.withAdminClient(flags, async (c) => await sendChangeNote(c, note))
    for (const l of renderChangeNote(r.data)) this.out(l)
    return r.json
  }
}
