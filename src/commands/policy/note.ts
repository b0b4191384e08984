import {Flags} from '@oclif/core'
import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {noteFileSha256, renderChangeNote, renderReload, requestReload, sendChangeNote, type ChangeNoteResult, type ReloadResult} from '../../plugins/admin-client/index.js'

export default class PolicyNote extends AdminCommand {
  static override summary = 'Attach an operator and justification to a policy change, bound to the config file it describes'
  static override description = `POST /api/v1/policy/change-note on the admin API. The note binds to the change it describes by the SHA-256 of the config file it was written for — --file, or by default the proxy's config file as it is now — and never to another change:
- the file in force, loaded by a change without a note (the file watcher applied your edit first): the note attests that change (a config_change event and receipt with outcome "attested", the change's hashes and diff);
- a file not loaded yet (your edit is saved but not applied, or --file names the new version before you install it): the note waits, 15 minutes at most, for the reload that loads exactly that file;
- the file in force whose change already has a note, or that no change loaded: refused (exit 1), so the note cannot end up on a later, unrelated change.
In strict mode a reload that loosens the policy (an api_allowlist addition…) is refused unless a note is bound to the new file; with one it applies without a restart. --reload asks the proxy to re-read its config right away (POST /api/v1/policy/reload with the note).

Exit 2 for bad flags or a rejected token; 1 when the note has nothing to bind to, the server cannot be reached or (with --reload) runs without a config file.`
  static override examples = [
    {description: 'Edit saved (applied by the file watcher or not): note it, and reload now', command: `<%= config.bin %> policy note --operator alice --justification 'billing agent needs b.example' --change-id CHG-7 --reload --api-url 127.0.0.1:9090`},
    {description: 'Note first, for the new version you are about to install', command: `<%= config.bin %> policy note --operator alice --justification 'drop a.example after the migration' --file ./pipelock.yaml.new --api-url 127.0.0.1:9090 && mv ./pipelock.yaml.new /etc/pipelock.yaml`},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...adminFlags,
    operator: Flags.string({description: 'who made the change', required: true}),
    justification: Flags.string({description: 'why (at most 4 KiB)', required: true}),
    'change-id': Flags.string({description: 'a ticket or change id (A-Z a-z 0-9 . _ -, at most 64)'}),
    reload: Flags.boolean({description: 'reload the config file now, with this note'}),
    file: Flags.string({description: 'the config file the note describes, as it will be loaded (default: the proxy\'s config file as it is now)'}),
  }

  async run(): Promise<ChangeNoteResult | ReloadResult> {
    const {flags} = await this.parse(PolicyNote)
    const note = {
      operator: flags.operator, justification: flags.justification, ...(flags['change-id'] !== undefined ? {changeId: flags['change-id']} : {}),
      ...(flags.file !== undefined ? {fileSha256: noteFileSha256(flags.file)} : {}),
    }
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
