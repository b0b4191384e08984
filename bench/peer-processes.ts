/**
 * The processes the proxy benchmarks measure (the built `pipelock run`, the bare Node relay,
 * tinyproxy and squid) and the small helpers to start them on free loopback ports.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {openSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
// One free-port helper for tests and benchmarks.
import {freePort} from '../test/e2e/proxy-harness.js'

export {freePort}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface Started {
  proc: ChildProcess
  port: number
  /** hrtime when the process was spawned. */
  spawnedAt: bigint
}

/** CPU nanoseconds of every thread of a process. */
export function processCpuNs(pid: number): number {
  let total = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // thread exited between listing and reading
    }
  }
  return total
}


/**
 * CPU nanoseconds of a process's main thread alone (in Node: the JavaScript, the scavenges and the
 * socket syscalls); what `processCpuNs` counts beyond it is V8's helper threads (concurrent
 * marking, background compiles) and libuv's pool.
 */
export function mainThreadCpuNs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0])
  } catch {
    return 0
  }
}

/** Resolves once something accepts on the port; rejects when the process exits first. */
export async function waitForPort(port: number, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}`)
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (up) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`port ${port} never opened`)
}

/**
 * `--node-arms "A;B;…"` of the proxy benches: one node/V8 flag set per arm (`""`: none), each
 * split on spaces; without the option (`undefined`), one arm without flags.
 */
export function nodeArmFlagSets(spec: string | undefined): string[][] {
  return spec === undefined ? [[]] : spec.split(';').map((f) => f.split(' ').filter((a) => a !== ''))
}

/** Spawns `node [nodeArgs] <root>/bin/run.js run --config F` (e.g. `--cpu-prof`) and resolves with its port once the banner is out. */
export async function spawnPipelock(root: string, configFile: string, extraArgs: readonly string[] = [], nodeArgs: readonly string[] = []): Promise<Started> {
  const spawnedAt = process.hrtime.bigint()
  const proc = spawn(process.execPath, [...nodeArgs, path.join(root, 'bin', 'run.js'), 'run', '--config', configFile, '--listen', '127.0.0.1:0', ...extraArgs], {
    // PL_BENCH_PROXY_STDOUT=FILE: the proxy's stdout appended to FILE (e.g. V8's `--trace-gc` lines).
    stdio: ['ignore', process.env.PL_BENCH_PROXY_STDOUT ? openSync(process.env.PL_BENCH_PROXY_STDOUT, 'a') : 'ignore', 'pipe'],
    env: {...process.env, NO_COLOR: '1'},
  })
  let err = ''
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`proxy did not start: ${err}`)), 20_000)
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString()
      const m = /Listen: 127\.0\.0\.1:(\d+)/.exec(err)
      if (m) {
        clearTimeout(t)
        // From here on the log is drained, not kept.
        proc.stderr!.removeAllListeners('data')
        proc.stderr!.resume()
        resolve(Number(m[1]))
      }
    })
    proc.once('exit', () => reject(new Error(`proxy exited: ${err}`)))
  })
  return {proc, port, spawnedAt}
}

/**
 * The bare relay (`bare-relay.ts`), which prints "port <n>"; `nodeArgs` go to node (e.g.
 * `--cpu-prof`), `args` to the relay (e.g. `--onread`).
 */
export async function spawnBareRelay(nodeArgs: readonly string[] = [], args: readonly string[] = []): Promise<Started> {
  return spawnRelay('bare-relay.js', nodeArgs, args)
}

/** The checking relay (`checking-relay.ts`: the bare relay running a pipelock arm's checks with `configFile`). */
export async function spawnCheckingRelay(configFile: string, markup: boolean): Promise<Started> {
  return spawnRelay('checking-relay.js', [], ['--config', configFile, ...(markup ? ['--markup'] : [])])
}

/** A relay of `dist/bench` that prints "port <n>" once it listens. */
async function spawnRelay(script: string, nodeArgs: readonly string[], args: readonly string[]): Promise<Started> {
  const name = script.replace(/\.js$/, '').replace('-', ' ')
  const spawnedAt = process.hrtime.bigint()
  const proc = spawn(process.execPath, [...nodeArgs, path.join(repoRoot, 'dist', 'bench', script), ...args], {stdio: ['ignore', 'pipe', 'ignore']})
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    const t = setTimeout(() => reject(new Error(`${name} did not start`)), 10_000)
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /port (\d+)/.exec(out)
      if (m) {
        clearTimeout(t)
        resolve(Number(m[1]))
      }
    })
    proc.once('exit', () => reject(new Error(`${name} exited`)))
  })
  return {proc, port, spawnedAt}
}

export const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

/** tinyproxy (Debian) with its config in `dir`. */
export async function startTinyproxy(dir: string): Promise<Started> {
  const spawnedAt = process.hrtime.bigint()
  const port = await freePort()
  const conf = path.join(dir, 'tinyproxy.conf')
  writeFileSync(conf, [`Port ${port}`, 'Listen 127.0.0.1', 'Timeout 600', 'MaxClients 200', 'LogLevel Critical', 'DisableViaHeader Yes'].join('\n') + '\n')
  const proc = spawn('tinyproxy', ['-d', '-c', conf], {stdio: 'ignore'})
  await waitForPort(port, proc)
  return {proc, port, spawnedAt}
}

/** squid (Debian), caching off, no access log, with its files in `dir`. */
export async function startSquid(dir: string): Promise<Started> {
  const spawnedAt = process.hrtime.bigint()
  const port = await freePort()
  const conf = path.join(dir, 'squid.conf')
  writeFileSync(conf, [
    `http_port 127.0.0.1:${port}`, 'http_access allow all', 'cache deny all', 'cache_mem 8 MB', 'access_log none',
    `cache_log ${path.join(dir, 'squid-cache.log')}`, `pid_filename ${path.join(dir, 'squid.pid')}`, 'via off',
    'forwarded_for delete', 'shutdown_lifetime 0 seconds', 'workers 1', `coredump_dir ${dir}`,
  ].join('\n') + '\n')
  spawnSync('chmod', ['0777', dir]) // squid drops to its own user and writes its files here
  const proc = spawn('squid', ['-N', '-f', conf], {stdio: 'ignore'})
  await waitForPort(port, proc)
  return {proc, port, spawnedAt}
}
