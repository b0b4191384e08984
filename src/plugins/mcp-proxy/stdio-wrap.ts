/**
 * `pipelock mcp proxy -- COMMAND ARGS` (spec mcp.md §3.1): spawn the server in its own process
 * group with a filtered environment, copy its stderr line by line, run every client message
 * through `decideRequest` and every server message through `decideResponse`, record each
 * decision, and tear the group down. Fixes Q30 (a child ignoring stdin EOF is terminated; a
 * dead child ends the session without waiting for the client) and Q31 (an oversized line ends
 * the session with exit 1).
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import type {Readable, Writable} from 'node:stream'
import {setTimeout as sleepRef} from 'node:timers/promises'
import {ERROR_REGISTRY, osErrorReason, PipelockError} from '../errors/index.js'
import {newSessionState, trimGoSpace, type McpContext, type McpDecision} from '../mcp/index.js'
import {LineTooLongError, readLines} from './line-reader.js'
import {lineMessages} from './line-messages.js'
import {writeLine} from './line-writer.js'
import {ENDED, pendingAnswers} from './pending.js'
import {answerUnservedOne, failUnserved, UNSERVED_READ_MS, within} from './unserved.js'
import type {StdioClientSide} from './runtime.js'
import {CallCuts} from './call-cuts.js'

export interface StdioWrapOptions extends StdioClientSide {
  readonly command: string
  readonly args: readonly string[]
  readonly env: Record<string, string>
  /** Descriptors passed to the child as fd 3, 4, … (the sandbox's seccomp program). */
  readonly extraFds?: readonly number[]
  /** After the client's EOF: how long a child may take to exit before SIGTERM (MCP shutdown: 5 s). */
  readonly eofGraceMs?: number
  /** SIGTERM → SIGKILL grace. */
  readonly killGraceMs?: number
  /** Called with the child's pid once it runs (the file sentry's lineage root). */
  readonly onSpawn?: (pid: number) => void
}

function sleep(ms: number): Promise<void> {
  return sleepRef(ms)
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(process.platform === 'win32' ? child.pid : -child.pid, signal)
  } catch {
    // ESRCH: the group is gone.
  }
}

/** Copies the child's stderr to ours, whole lines at a time (never interleaved with ours). */
async function pipeStderr(child: ChildProcess, log: (line: string) => void): Promise<void> {
  if (child.stderr === null) return
  try {
    for await (const l of readLines(child.stderr, Number.MAX_SAFE_INTEGER)) log(l)
  } catch {
    // the child's stderr closing abruptly is not our error
  }
}

export interface WrapResult {
  /** 0 = clean end. */
  readonly exitCode: number
}

export async function runStdioWrap(o: StdioWrapOptions): Promise<WrapResult> {
  const child = spawn(o.command, [...o.args], {env: o.env, stdio: ['pipe', 'pipe', 'pipe', ...(o.extraFds ?? [])], detached: process.platform !== 'win32'})
  try {
    await Promise.race([once(child, 'spawn'), once(child, 'error').then(([e]) => Promise.reject(e))])
  } catch (err) {
    // In words (`no such file or directory`), not Node's `spawn /x ENOENT`.
    return await failUnserved(o, `starting MCP server "${o.command}": ${osErrorReason(err)}`)
  }
  if (child.pid !== undefined) o.onSpawn?.(child.pid)
  // Parent death: Node cannot set PR_SET_PDEATHSIG; tear the group down when we exit.
  const onExit = (): void => killGroup(child, 'SIGTERM')
  process.on('exit', onExit)
  child.stdin!.on('error', () => {}) // EPIPE after the child died: the exit path reports it
  o.clientOut.on('error', () => {})

  const ctx: McpContext = {settings: o.runtime.settings, deps: o.runtime.deps, state: newSessionState(o.runtime.settings, 'mcp_stdio', 'default', '_default|stdio')}
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.once('exit', (code, signal) => resolve({code, signal})))
  let streamError: string | null = null
  let childGone = false
  const stderrDone = pipeStderr(child, o.log)
  // Calls out to the server are cut by the kill switch and the session's airlock (call-cuts.ts).
  const calls = new CallCuts(ctx, o.runtime.killSwitch, {record: (d) => o.recorder.record(d), answer: (line) => void writeLine(o.clientOut, line, o.log), log: o.log})

  /** Every non-blank line of `from`: one decision, recorded, then its lines written (back-pressured). */
  // Each direction is one loop: a message is decided (large ones on the scan pool), recorded and
  // written before the next line is read, so per-direction order holds and the read back-pressures.
  const offload = o.runtime.offload
  const relay = async (from: Readable, decide: (c: McpContext, raw: string) => McpDecision | Promise<McpDecision>, onward: Writable, back: Writable): Promise<void> => {
    const fromClient = from === o.clientIn
    // Both sides' lines are read as messages: a message written over several lines comes whole,
    // for the gate of its direction to refuse (line-messages.ts; the `framing` stages).
    for await (const raw of lineMessages(readLines(from))) {
      if (trimGoSpace(raw) === '') continue
      if (childGone && fromClient) {
        // Written after the server exited: nothing will answer it but this (unserved.ts).
        await answerUnservedOne(raw, ENDED, back, o.log)
        continue
      }
      // The server's answer to a call that was cut (answered already) is dropped unread; the
      // answer to a call sent under a reissued id gets the client's id back.
      const up = fromClient ? null : calls.fromUpstream(raw)
      if (up?.drop === true) continue
      const d = await decide(ctx, up?.raw ?? raw)
      // A cut while it was being decided (on the scan pool): dropped too.
      if (up !== null && calls.answered(d, up.upstreamId)) continue
      o.recorder.record(d)
      if (d.answer !== null) await writeLine(back, d.answer, o.log)
      if (d.forward !== null) await writeLine(onward, fromClient ? calls.forwarded({...d, forward: d.forward}) : d.forward, o.log)
    }
  }
  const clientLoop = relay(o.clientIn, (c, raw) => offload.decideRequest(c, raw), child.stdin!, o.clientOut)
    .catch((err: Error) => {
      if (err instanceof LineTooLongError) streamError = `reading input: ${err.from('the client')}`
      else if (!childGone) streamError = `reading input: ${err.message}`
    })
    .then(() => void child.stdin!.end())
  // Spec §2.8 names this exit `scanning: reading input: …`.
  const serverLoop = relay(child.stdout!, (c, raw) => offload.decideResponse(c, raw), o.clientOut, child.stdin!).catch((err: Error) => {
    streamError = `scanning: reading input: ${err instanceof LineTooLongError ? err.from('the MCP server') : err.message}`
  })

  // Shutdown paths: client EOF (grace, then SIGTERM, then SIGKILL), a stop signal, a stream error.
  const terminate = async (): Promise<void> => {
    killGroup(child, 'SIGTERM')
    if (!(await within(exited, o.killGraceMs ?? 2000))) killGroup(child, 'SIGKILL')
  }
  const watchdog = (async (): Promise<void> => {
    const first = await Promise.race([
      clientLoop.then(() => 'eof' as const),
      serverLoop.then(() => 'server' as const),
      exited.then(() => 'exit' as const),
      ...(o.stop ? [o.stop.then(() => 'stop' as const)] : []),
    ])
    if (first === 'exit') return
    if (first === 'stop' || streamError !== null) return terminate()
    const exitedInTime = await within(o.stop ? Promise.race([exited, o.stop.then(() => Promise.reject(new Error('stop')))]) : exited, o.eofGraceMs ?? 5000).catch(() => false)
    if (!exitedInTime) await terminate()
  })()

  const status = await exited
  childGone = true
  await serverLoop
  calls.stop()
  await watchdog
  // The client may still be writing (a server that exited at once, before it read the client's
  // initialize): what it writes within a short time is answered; then stdin is let go of, the
  // client may still be blocked on it (fix Q30).
  await within(clientLoop, UNSERVED_READ_MS)
  o.clientIn.pause()
  o.clientIn.destroy()
  process.removeListener('exit', onExit)
  // Reap anything left in the group.
  killGroup(child, 'SIGTERM')
  await sleep(100)
  killGroup(child, 'SIGKILL')
  await within(stderrDone, 200)

  // The session is over: every request still waiting is answered, so the client does not wait
  // forever — after a stream failure, and when the server exited or crashed mid-call alike.
  const answerPending = async (): Promise<void> => {
    for (const line of pendingAnswers(ctx.state)) await writeLine(o.clientOut, line, o.log)
  }
  if (streamError !== null) {
    o.log(`pipelock: ${streamError}`)
    await answerPending()
    throw new PipelockError('MCP_STREAM_FAILED', streamError)
  }
  await answerPending()
  if (status.code === 0) return {exitCode: 0}
  const what = status.signal !== null ? `signal: ${signalText(status.signal)}` : `exit status ${status.code}`
  // Spec §2.8 names this line; the reference then printed the same reason again as its final
  // error. Said once, the run still ends with MCP_SUBPROCESS_EXITED's status (10).
  o.log(`pipelock: subprocess exited: ${what}`)
  return {exitCode: ERROR_REGISTRY.MCP_SUBPROCESS_EXITED.exit}
}

/** Go's `os.ProcessState` wording for the common signals. */
function signalText(s: NodeJS.Signals): string {
  const names: Partial<Record<NodeJS.Signals, string>> = {SIGTERM: 'terminated', SIGKILL: 'killed', SIGINT: 'interrupt', SIGHUP: 'hangup', SIGPIPE: 'broken pipe'}
  return names[s] ?? s
}
