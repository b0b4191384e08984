/**
 * Git smart-HTTP pushes (containment.md §4, docs/git-protection.md), with `git_protection`
 * enabled: a `POST …/git-receive-pack` body (read by the body stage) names the refs the push
 * updates — each branch must match `allowed_branches` — and carries the pack, whose readable
 * objects (whole blobs, deltas against objects of the same pack, the literal inserts of a thin
 * pack's deltas) go through text DLP. A pack that cannot be read to its end is refused: a push is
 * never relayed half-checked.
 */
import {allowedBranches, branchOfRef, branchRefusal, isZeroId, type PackCheck} from '../../../git/index.js'
import type {RequestGateContext, Stage} from '../context.js'

export function isReceivePack(method: string, target: string): boolean {
  if (method !== 'POST') return false
  const q = target.indexOf('?')
  return (q < 0 ? target : target.slice(0, q)).endsWith('/git-receive-pack')
}

export const gitPushStage: Stage = {
  id: 'git_push',
  applies: (snap) => snap.config.git_protection.enabled,
  run(ctx) {
    const c = ctx.snap.config
    if (!c.git_protection.enabled || ctx.body === null || !isReceivePack(ctx.method, ctx.target)) return false
    // Read and scanned on the scan pool (the pack inflates); a check the pool cannot run is a pack not read.
    const push = ctx.snap.bodyScans.checkPush(ctx.snap.scanner, ctx.body)
    return push instanceof Promise ? push.then((p) => answer(ctx, p)) : answer(ctx, push)
  },
}

/** The stage's answer to a push's check: a branch outside the rules, a pack not read, or a secret refuse it. */
function answer(ctx: RequestGateContext, push: PackCheck): boolean {
  const patterns = allowedBranches(ctx.snap.config)
  for (const u of push.updates) {
    const branch = branchOfRef(u.ref)
    if (branch === null || isZeroId(u.newId)) continue
    const refused = branchRefusal(branch, patterns)
    if (refused !== null) {
      ctx.block({stage: 'git_push', layer: 'git_protection', detail: `git push refused: ${refused}`, status: 403, reason: 'git_branch_denied'})
      return true
    }
  }
  if (push.error !== '') {
    ctx.block({stage: 'git_push', layer: 'git_protection', detail: `git push refused: pack could not be read (${push.error})`, status: 403, reason: 'parse_error'})
    return true
  }
  if (push.found.length > 0) {
    ctx.block({stage: 'git_push', layer: 'git_protection', detail: `git push refused: secret in pushed content: ${push.found.join(', ')}`, status: 403, reason: 'dlp_match'})
    return true
  }
  return false
}
