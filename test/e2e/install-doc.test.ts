import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {repoPath} from '../helpers/vectors.js'

// docs/install.md: the block after <!-- install-doc-test --> runs as written with bash from the
// repository root (after the build), with a throw-away npm prefix and HOME so the global install
// touches nothing outside the temp dir (the npm cache aside). The install is a packed copy: its
// dependencies are installed from the cache or the registry. re2 is taken from a local mirror
// holding the addon this checkout's own `npm ci` just built (re2's documented RE2_DOWNLOAD_MIRROR,
// a folder here): the same bytes, without compiling RE2 a second time (about two minutes of the
// suite on a slow host). Without the mirror re2 builds from source, as `npm ci` showed it does.

function docBlock(): string {
  const md = readFileSync(repoPath('docs', 'install.md'), 'utf8')
  const m = /<!-- install-doc-test -->\n```sh\n([\s\S]*?)```/.exec(md)
  assert.ok(m, 'docs/install.md has the tested block')
  return m[1]!
}

test('docs/install.md: npm global install puts pipelock on PATH; generate config/systemd/kubernetes; run starts', {timeout: 900_000}, () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pipelock-install-doc-'))
  try {
    const prefix = path.join(tmp, 'prefix')
    const home = path.join(tmp, 'home')
    mkdirSync(home)
    // Under `npm test`, npm exports npm_config_prefix (the real global prefix) and friends: drop
    // every npm_* variable so the doc's `npm install --global .` can only reach the temp prefix.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)))
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      HOME: home,
      NPM_CONFIG_PREFIX: prefix,
      NPM_CONFIG_UPDATE_NOTIFIER: 'false',
      // The packed install fetches and builds the runtime dependencies (re2): keep the user's npm
      // cache and settings (e.g. nodedir for the native build) although HOME is a temp dir.
      NPM_CONFIG_CACHE: path.join(os.homedir(), '.npm'),
      ...(existsSync(path.join(os.homedir(), '.npmrc')) ? {NPM_CONFIG_USERCONFIG: path.join(os.homedir(), '.npmrc')} : {}),
      PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
      NO_COLOR: '1',
    }
    // re2's installer reads <mirror>/<platform>-<arch>-<abi> when told to skip the release path and
    // version; the addon is verified by re2's own check before it is kept.
    const mirror = path.join(tmp, 're2-mirror')
    mkdirSync(mirror)
    copyFileSync(repoPath('node_modules', 're2', 'build', 'Release', 're2.node'), path.join(mirror, `${process.platform}-${process.arch}-${process.versions.modules}`))
    env.RE2_DOWNLOAD_MIRROR = mirror
    env.RE2_DOWNLOAD_SKIP_PATH = '1'
    env.RE2_DOWNLOAD_SKIP_VER = '1'
    const prefixSeen = spawnSync('npm', ['prefix', '--global'], {cwd: repoPath(), env, encoding: 'utf8'})
    assert.equal(prefixSeen.stdout.trim(), prefix, 'the global prefix the doc block will use is the temp one')
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', docBlock()], {cwd: repoPath(), env, encoding: 'utf8', timeout: 890_000})
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`)
    // The block allows re2's install script by name: npm 11 warns about a script that no allowScripts
    // entry covers (and a later npm will not run it).
    assert.doesNotMatch(r.stderr, /not yet covered by allowScripts/)
    assert.ok(existsSync(path.join(prefix, 'bin', 'pipelock')), 'pipelock is in the prefix bin')
    // a packed copy, not a link to the checkout: npm ci / npm test here cannot break it (issue 34)
    const installed = realpathSync(path.join(prefix, 'bin', 'pipelock'))
    assert.ok(installed.startsWith(realpathSync(prefix) + path.sep), `the installed binary ${installed} lives in the prefix, not in the checkout`)
    assert.match(r.stdout, /^pipelock\/0\.1\.0 \S+ node-v/m)
    const dir = path.join(home, 'pipelock-deploy')
    for (const f of ['pipelock.yaml', 'pipelock.service', 'pipelock-sidecar.yaml']) assert.ok(existsSync(path.join(dir, f)), f)
    // the balanced preset: the same files as the repository's deploy/ examples
    assert.equal(readFileSync(path.join(dir, 'pipelock.yaml'), 'utf8'), readFileSync(repoPath('deploy', 'pipelock.yaml'), 'utf8'))
    assert.equal(readFileSync(path.join(dir, 'pipelock.service'), 'utf8'), readFileSync(repoPath('deploy', 'systemd', 'pipelock.service'), 'utf8'))
    assert.equal(readFileSync(path.join(dir, 'pipelock-sidecar.yaml'), 'utf8'), readFileSync(repoPath('deploy', 'kubernetes', 'pipelock-sidecar.yaml'), 'utf8'))
    assert.match(r.stderr, /\n {2}Proxy: {2}HTTP\/HTTPS forward proxy enabled \(CONNECT \+ absolute-URI\)\n {2}Agents: HTTPS_PROXY=http:\/\/127\.0\.0\.1:\d+ /)
  } finally {
    rmSync(tmp, {recursive: true, force: true})
    // the tarball `npm pack` left in the checkout (gitignored)
    for (const f of readdirSync(repoPath())) if (/^pipelock-.*\.tgz$/.test(f)) rmSync(repoPath(f), {force: true})
  }
})
