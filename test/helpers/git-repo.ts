import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'

/**
 * `git` in `dir` with a fixed author and no system or user config (HOME is `dir`): its stdout, or
 * the test fails with git's stderr. For tests that build real repositories and packs.
 */
export function gitIn(dir: string): (args: string[], input?: string) => Buffer {
  const env = {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_NOSYSTEM: '1', HOME: dir}
  return (args, input) => {
    const r = spawnSync('git', args, {cwd: dir, env, input})
    assert.equal(r.status, 0, `git ${args.join(' ')}: ${String(r.stderr)}`)
    return r.stdout
  }
}
