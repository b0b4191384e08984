/**
 * The host side of the `pipelock sandbox` end-to-end tests: a temporary root holding a HOME with
 * a private key (what a sandboxed process must never read), a workspace, a config file, and a
 * loopback origin on the host that counts its hits. `useSandboxHost` registers the set-up and the
 * clean-up with the enclosing test file; it first checks that this machine has bubblewrap with
 * user and network namespaces, and the tools the file names, and fails loudly naming what is
 * missing (nothing is skipped).
 */
import {after, before} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {cleanEnv, runCliAsync} from '../helpers/fake-admin-api.js'

export interface SandboxHostOptions {
  /** The contents of `$HOME/.ssh/id_rsa`. */
  readonly key: string
  /** What the origin answers every request with. */
  readonly originBody: string
  /** The config file's text, given the root folder. */
  readonly config: (root: string) => string
  /** More to check or make before the files (extra tools, extra files below the root). */
  readonly prepare?: (root: string, home: string) => void
}

export interface SandboxHost {
  readonly root: string
  readonly home: string
  readonly ws: string
  readonly cfg: string
  readonly originPort: number
  /** The origin's request targets, in order. */
  readonly hits: string[]
  /** A clean environment with HOME at the test's home, and `extra`. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv
  /** `pipelock sandbox --config cfg --workspace ws ARGS`. */
  sandbox(args: string[], extra?: NodeJS.ProcessEnv): Promise<{status: number | null; stdout: string; stderr: string}>
}

/** Fails unless bubblewrap can make user and network namespaces here. */
export function assertBubblewrap(): void {
  const bw = spawnSync('bwrap', ['--unshare-all', '--ro-bind', '/', '/', '--', '/bin/true'], {encoding: 'utf8'})
  assert.equal(bw.error, undefined, 'bubblewrap (bwrap) is not installed: node scripts/ensure-test-tools.mjs installs the Debian package bubblewrap')
  assert.equal(bw.status, 0, `bubblewrap cannot create user and network namespaces here (${bw.stderr.trim()}); the sandbox tests need them`)
}

export function useSandboxHost(o: SandboxHostOptions): SandboxHost {
  const hits: string[] = []
  let root = ''
  let origin: http.Server | undefined
  let originPort = 0
  before(async () => {
    assertBubblewrap()
    root = mkdtempSync(path.join(tmpdir(), 'pipelock-sandbox-test-'))
    o.prepare?.(root, path.join(root, 'home'))
    mkdirSync(path.join(root, 'home', '.ssh'), {recursive: true})
    writeFileSync(path.join(root, 'home', '.ssh', 'id_rsa'), o.key, {mode: 0o600})
    mkdirSync(path.join(root, 'ws'))
    origin = http.createServer((req, res) => {
      hits.push(req.url ?? '')
      res.end(o.originBody)
    })
    await new Promise<void>((r) => origin!.listen(0, '127.0.0.1', r))
    originPort = (origin.address() as AddressInfo).port
    writeFileSync(path.join(root, 'pipelock.yaml'), o.config(root))
  })
  after(async () => {
    if (origin !== undefined) await new Promise<void>((r) => origin!.close(() => r()))
    if (root !== '') rmSync(root, {recursive: true, force: true})
  })
  const host: SandboxHost = {
    get root() {
      return root
    },
    get home() {
      return path.join(root, 'home')
    },
    get ws() {
      return path.join(root, 'ws')
    },
    get cfg() {
      return path.join(root, 'pipelock.yaml')
    },
    get originPort() {
      return originPort
    },
    hits,
    env: (extra = {}) => cleanEnv({HOME: host.home, ...extra}),
    sandbox: async (args, extra = {}) => await runCliAsync(['sandbox', '--config', host.cfg, '--workspace', host.ws, ...args], {env: host.env(extra)}),
  }
  return host
}
