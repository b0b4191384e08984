import {Flags} from '@oclif/core'
import {AdminCommand, adminFlags, sessionKeyArg} from '../../cli/admin-command.js'
import {RELEASE_TARGETS, releaseSession, renderRelease, type AirlockChange, type ReleaseTarget} from '../../plugins/admin-client/index.js'

export default class SessionRelease extends AdminCommand {
  static override summary = 'Lower a session\'s airlock tier (release it from quarantine)'
  static override description = `POST /api/v1/sessions/<key>/airlock {"tier":"<to>"} and prints "released <key>: <from> -> <to> (changed=true|false)". A target above the current tier is refused, with exit 2 and without changing anything: release only lowers a quarantine. With --to soft the current tier is read first from the session list (GET /api/v1/sessions, which the server does not rate limit), so inspect and explain calls made before never use up the release (--to none, the lowest tier, needs no read).

An unbound identity (a claimed agent name) is also held by another session from the same client address that is in drain or hard or blocks everything: a release that changes nothing of the session exits 2 (SESSION_HELD_BY_ADDRESS) naming the session to release instead; one that lowered it adds "still blocked: client address held by session …".

Tiers are ordered none < soft < hard < drain; --to normal means none. Exit 1 when the session does not exist, the airlock action itself is rate limited (10 a minute) or the server or network fails.`
  static override examples = [
    {description: 'Release a session completely', command: `<%= config.bin %> session release 'my-agent|10.0.0.5' --api-url 127.0.0.1:9090`},
    {description: 'Step a hard-quarantined session down to soft (observe only)', command: `<%= config.bin %> session release 'my-agent|10.0.0.5' --to soft --api-url 127.0.0.1:9090`},
  ]
  static override enableJsonFlag = true
  static override args = sessionKeyArg
  static override flags = {
    ...adminFlags,
    to: Flags.string({description: 'target airlock tier (normal = none)', options: [...RELEASE_TARGETS], default: 'none'}),
  }

  async run(): Promise<AirlockChange> {
    const {args, flags} = await this.parse(SessionRelease)
    const r = await this.withAdminClient(flags, async (c) => await releaseSession(c, args.key, flags.to as ReleaseTarget))
    for (const l of renderRelease(r.data)) this.out(l)
    return r.json
  }
}
