import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {repoPath} from '../helpers/vectors.js'
import {rawHttp, startHttpUpstream, startProxy, tempDir, type RunningProxy, type Upstream} from './proxy-harness.js'

// Issue 39, git protection (containment.md §4, docs/git-protection.md) with real git: the
// pre-push hook `pipelock git install-hooks` writes refuses a push whose commits carry a key (even
// when a later commit removes it) and a push to a branch outside allowed_branches; on the proxy,
// a smart-HTTP push (`POST …/git-receive-pack`, pack built by git pack-objects) is checked
// against the same branch rules and its pack contents scanned.

const BIN = repoPath('bin/run.js')
const AWS_KEY = ['AKIA', 'QYLPMN5HHHFPZAM2'].join('') // built at run time: not a literal credential
const ZERO = '0'.repeat(40)

function haveGit(): void {
  const r = spawnSync('git', ['--version'], {encoding: 'utf8'})
  assert.equal(r.status, 0, 'git is required by this test (node scripts/ensure-test-tools.mjs installs it as root): ' + (r.error?.message ?? r.stderr))
}

describe('git protection: pre-push hook and proxy-side push checks', {timeout: 180_000}, () => {
  const dir = tempDir('pl-git-')
  const home = path.join(dir, 'home')
  const remote = path.join(dir, 'remote.git')
  const work = path.join(dir, 'work')
  const cfg = path.join(dir, 'pipelock.yaml')
  const env = {
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`, HOME: home, NO_COLOR: '1',
    GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com',
    GIT_CONFIG_NOSYSTEM: '1',
  }
  const git = (args: string[], cwd = work): {status: number | null; stdout: string; stderr: string} => {
    const r = spawnSync('git', args, {cwd, env, encoding: 'utf8', timeout: 60_000})
    return {status: r.status, stdout: r.stdout, stderr: r.stderr}
  }
  const ok = (args: string[], cwd = work): string => {
    const r = git(args, cwd)
    assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`)
    return r.stdout.trim()
  }
  const pipelock = (args: string[], cwd = work): {status: number | null; stdout: string; stderr: string} => {
    const r = spawnSync(process.execPath, [BIN, ...args], {cwd, env, encoding: 'utf8', timeout: 60_000})
    return {status: r.status, stdout: r.stdout, stderr: r.stderr}
  }
  const commit = (file: string, text: string, msg: string): string => {
    writeFileSync(path.join(work, file), text)
    ok(['add', file])
    ok(['commit', '-q', '-m', msg])
    return ok(['rev-parse', 'HEAD'])
  }

  before(() => {
    haveGit()
    mkdirSync(home)
    writeFileSync(cfg, ['git_protection:', '  enabled: true', '  allowed_branches: ["main", "feature/*"]', ''].join('\n'))
    ok(['init', '-q', '--bare', '-b', 'main', remote], dir)
    ok(['init', '-q', '-b', 'main', work], dir)
    ok(['remote', 'add', 'origin', remote])
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('install-hooks writes an executable pre-push hook; a second install without --force refuses', () => {
    const r = pipelock(['git', 'install-hooks', '--config', cfg, '--binary', BIN])
    const hook = path.join(work, '.git', 'hooks', 'pre-push')
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, `Installed pre-push hook at ${hook}\n`)
    assert.equal(statSync(hook).mode & 0o777, 0o755)
    assert.match(readFileSync(hook, 'utf8'), new RegExp(`^exec '${BIN.replace(/[.]/g, '\\.')}' git scan-push --config '${cfg.replace(/[.]/g, '\\.')}' -- "\\$1" "\\$2"$`, 'm'))
    const again = pipelock(['git', 'install-hooks', '--binary', BIN])
    assert.equal(again.status, 1)
    assert.equal(again.stderr, `hook already exists at ${hook} (use --force to overwrite) [FILE_EXISTS]\n`)
    // A config the hook could not load is refused now, and the installed hook is left as it was.
    const hookText = readFileSync(hook, 'utf8')
    const missing = pipelock(['git', 'install-hooks', '--force', '--config', path.join(dir, 'nonexistent.yaml'), '--binary', BIN])
    assert.equal(missing.status, 1)
    assert.match(missing.stderr, /nonexistent\.yaml.*\[FILE_NOT_FOUND\]/)
    const badCfg = path.join(dir, 'bad.yaml')
    writeFileSync(badCfg, 'git_protection:\n  enabled: true\n  allowed_branches: ["[abc"]\n')
    assert.equal(pipelock(['git', 'install-hooks', '--force', '--config', badCfg, '--binary', BIN]).status, 2)
    assert.equal(readFileSync(hook, 'utf8'), hookText)
    const outside = pipelock(['git', 'install-hooks'], dir)
    assert.equal(outside.stderr, 'not a git repository (no .git directory found) [GIT_NOT_A_REPOSITORY]\n')
  })

  it('a clean push to main passes the hook', () => {
    commit('README.md', 'hello\n', 'readme')
    const r = git(['push', '-q', 'origin', 'main'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /pipelock: push checked: 1 ref\(s\), 1 commit\(s\), no secrets found/)
  })

  it('a commit carrying a key is refused even when the next commit removes it', () => {
    const leaked = commit('deploy.sh', `#!/bin/sh\nexport AWS_ACCESS_KEY_ID=${AWS_KEY}\n`, 'deploy script')
    commit('deploy.sh', '#!/bin/sh\n', 'remove the key')
    const before = ok(['rev-parse', 'main'], remote)
    const r = git(['push', '-q', 'origin', 'main'])
    assert.notEqual(r.status, 0)
    assert.ok(r.stderr.includes(`pipelock: ${leaked.slice(0, 12)} deploy.sh:2  AWS Access ID (critical)\n`), r.stderr)
    assert.ok(r.stderr.includes('Push blocked by pipelock. Fix the issues above, then try again. [GIT_PUSH_BLOCKED]\n'), r.stderr)
    assert.equal(ok(['rev-parse', 'main'], remote), before, 'the remote did not move')
    ok(['reset', '-q', '--hard', 'HEAD~2'])
  })

  it('a key in a commit message is refused like one in a file, at its commit and message line', () => {
    const leaked = commit('msg.txt', 'm\n', `deploy\n\nwith key ${AWS_KEY}`)
    const before = ok(['rev-parse', 'main'], remote)
    const r = git(['push', '-q', 'origin', 'main'])
    assert.notEqual(r.status, 0)
    assert.ok(r.stderr.includes(`pipelock: ${leaked.slice(0, 12)} (commit message):3  AWS Access ID (critical)\n`), r.stderr)
    assert.equal(ok(['rev-parse', 'main'], remote), before, 'the remote did not move')
    ok(['reset', '-q', '--hard', 'HEAD~1'])
  })

  const BLOCKED = (commitId: string, loc: string): string => `pipelock: ${commitId.slice(0, 12)} ${loc}  AWS Access ID (critical)\npipelock: found 1 secret(s) in the commits being pushed\nPush blocked by pipelock. Fix the issues above, then try again. [GIT_PUSH_BLOCKED]\n`

  it('a merge that resolves a conflict by adding a key is refused at the merge commit; a clean merge passes', () => {
    const base = ok(['rev-parse', 'main'])
    ok(['checkout', '-q', '-b', 'feature/m'])
    commit('conf.txt', 'a\n', 'a')
    ok(['checkout', '-q', 'main'])
    commit('conf.txt', 'b\n', 'b')
    assert.notEqual(git(['merge', '-q', 'feature/m']).status, 0, 'the merge conflicts')
    const merge = commit('conf.txt', `merged\naws_key=${AWS_KEY}\n`, 'merge feature/m')
    const before = ok(['rev-parse', 'main'], remote)
    const r = git(['push', '-q', 'origin', 'main'])
    assert.notEqual(r.status, 0)
    assert.ok(r.stderr.includes(BLOCKED(merge, 'conf.txt:2')), r.stderr)
    assert.equal(ok(['rev-parse', 'main'], remote), before, 'the remote did not move')
    // The same merge resolved without the key: the merged branch's own commit is scanned once, as
    // itself, and nothing is found.
    ok(['reset', '-q', '--hard', 'HEAD~1'])
    assert.notEqual(git(['merge', '-q', 'feature/m']).status, 0)
    commit('conf.txt', 'merged\n', 'merge feature/m')
    const clean = git(['push', '-q', 'origin', 'main'])
    assert.equal(clean.status, 0, clean.stderr)
    assert.ok(clean.stderr.includes('pipelock: push checked: 1 ref(s), 3 commit(s), no secrets found\n'), clean.stderr)
    assert.notEqual(ok(['rev-parse', 'main'], remote), base)
    ok(['branch', '-q', '-D', 'feature/m'])
  })

  it('files git takes for binary (a NUL byte, -diff in .gitattributes) are scanned; a clean binary passes', () => {
    const before = ok(['rev-parse', 'main'], remote)
    const nul = commit('blob.dat', `${AWS_KEY}\n\0\n`, 'binary data')
    const r = git(['push', '-q', 'origin', 'main'])
    assert.notEqual(r.status, 0)
    assert.ok(r.stderr.includes(BLOCKED(nul, 'blob.dat:1')), r.stderr)
    ok(['reset', '-q', '--hard', 'HEAD~1'])
    commit('.gitattributes', '*.cfg -diff\n', 'cfg files are not diffed')
    const attr = commit('app.cfg', `region=eu\nkey=${AWS_KEY}\n`, 'app config')
    assert.match(ok(['show', '--format=', attr]), /^Binary files \/dev\/null and b\/app\.cfg differ$/m)
    const a = git(['push', '-q', 'origin', 'main'])
    assert.notEqual(a.status, 0)
    assert.ok(a.stderr.includes(BLOCKED(attr, 'app.cfg:2')), a.stderr)
    assert.equal(ok(['rev-parse', 'main'], remote), before, 'the remote did not move')
    ok(['reset', '-q', '--hard', 'HEAD~2'])
    writeFileSync(path.join(work, 'logo.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x0a, 0x1a, 0x0a, 0x00, 0xff]))
    ok(['add', 'logo.bin'])
    ok(['commit', '-q', '-m', 'logo'])
    const clean = git(['push', '-q', 'origin', 'main'])
    assert.equal(clean.status, 0, clean.stderr)
    assert.ok(clean.stderr.includes('pipelock: push checked: 1 ref(s), 1 commit(s), no secrets found\n'), clean.stderr)
  })

  it('a push to a branch outside allowed_branches is refused; feature/* passes', () => {
    ok(['checkout', '-q', '-b', 'wip/x'])
    commit('notes.txt', 'notes\n', 'notes')
    const r = git(['push', '-q', 'origin', 'wip/x'])
    assert.notEqual(r.status, 0)
    assert.ok(r.stderr.includes('pipelock: push to refs/heads/wip/x refused: branch "wip/x" does not match any allowed pattern: [main, feature/*]\n'), r.stderr)
    assert.notEqual(git(['rev-parse', '--verify', 'wip/x'], remote).status, 0)
    assert.equal(git(['push', '-q', 'origin', 'wip/x:feature/notes']).status, 0)
  })

  it('scan-push --json reports refs and findings', () => {
    const head = ok(['rev-parse', 'HEAD'])
    const r = spawnSync(process.execPath, [BIN, 'git', 'scan-push', '--config', cfg, '--json', 'origin'], {cwd: work, env, encoding: 'utf8', input: `refs/heads/wip/x ${head} refs/heads/wip/x ${ZERO}\n`})
    assert.equal(r.status, 1, r.stdout + r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), {blocked: true, refs: [{local_ref: 'refs/heads/wip/x', remote_ref: 'refs/heads/wip/x', commits: 0, refused: 'branch "wip/x" does not match any allowed pattern: [main, feature/*]', findings: []}]})
  })

  it('scan-push where git cannot list the commits: refused (fail closed) with its own code, not as a blocked push', () => {
    const r = spawnSync(process.execPath, [BIN, 'git', 'scan-push', '--config', cfg, '--json', 'origin'], {cwd: work, env, encoding: 'utf8', input: `refs/heads/main ${'1'.repeat(40)} refs/heads/main ${'2'.repeat(40)}\n`})
    assert.equal(r.status, 1, r.stdout + r.stderr)
    assert.equal((JSON.parse(r.stdout) as {error: {code: string}}).error.code, 'GIT_SCAN_FAILED')
  })

  describe('through the proxy: git-receive-pack requests', () => {
    let up: Upstream
    let proxy: RunningProxy
    before(async () => {
      up = await startHttpUpstream()
      proxy = await startProxy(['forward_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'git_protection:', '  enabled: true', '  allowed_branches: ["main", "feature/*"]', ''].join('\n'))
    })
    after(async () => {
      await proxy.stop()
      await up.close()
    })

    /** A receive-pack request body: the ref update command, a flush, and git's pack of `revs`. */
    function pushBody(ref: string, newId: string, revs: string): Buffer {
      const pack = spawnSync('git', ['pack-objects', '--stdout', '--revs'], {cwd: work, env, input: revs + '\n'})
      assert.equal(pack.status, 0, String(pack.stderr))
      const cmd = `${ZERO} ${newId} ${ref}\0 report-status side-band-64k\n`
      return Buffer.concat([Buffer.from((cmd.length + 4).toString(16).padStart(4, '0') + cmd), Buffer.from('0000'), pack.stdout])
    }
    function post(body: Buffer): Promise<{status: number; reason: string}> {
      return new Promise((resolve, reject) => {
        const req = http.request({host: '127.0.0.1', port: proxy.port, method: 'POST', path: `http://127.0.0.1:${up.port}/repo.git/git-receive-pack`, headers: {'content-type': 'application/x-git-receive-pack-request', 'content-length': body.length}}, (res) => {
          res.resume()
          res.on('end', () => resolve({status: res.statusCode ?? 0, reason: String(res.headers['x-pipelock-block-reason'] ?? '')}))
        })
        req.on('error', reject)
        req.end(body)
      })
    }

    it('a pack carrying a key is refused (dlp_match), a branch outside the rules too; a clean push to main is relayed', async () => {
      ok(['checkout', '-q', 'main'])
      const leaked = commit('creds.env', `AWS_ACCESS_KEY_ID=${AWS_KEY}\n`, 'creds')
      assert.deepEqual(await post(pushBody('refs/heads/main', leaked, leaked)), {status: 403, reason: 'dlp_match'})
      ok(['reset', '-q', '--hard', 'HEAD~1'])
      const clean = commit('more.txt', 'more\n', 'more')
      assert.deepEqual(await post(pushBody('refs/heads/release', clean, clean)), {status: 403, reason: 'git_branch_denied'})
      assert.equal((await post(pushBody('refs/heads/main', clean, clean))).status, 200)
      assert.match(proxy.stdout(), /"reason":"git push refused: secret in pushed content: AWS Access ID"|git push refused: secret in pushed content: AWS Access ID/)
      // A key in the commit message is pushed content too.
      const message = commit('later.txt', 'later\n', `deploy with key ${AWS_KEY}`)
      assert.deepEqual(await post(pushBody('refs/heads/main', message, message)), {status: 403, reason: 'dlp_match'})
      ok(['reset', '-q', '--hard', 'HEAD~1'])
      // Each pack was read and scanned on the scan pool (docs/scanner.md, "Large bodies").
      const metrics = (await rawHttp(proxy.port, {path: '/metrics'})).body
      assert.match(metrics, /^pipelock_scan_offload_total\{outcome="scanned",surface="git_push"\} 4$/m)
    })
  })
})
