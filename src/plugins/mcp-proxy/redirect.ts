/**
 * The redirect step of the MCP request side (spec mcp.md §8.5, containment.md §6): a `tools/call`
 * whose policy verdict is `redirect` arrives here as the fail-closed block decision carrying the
 * profile (`McpDecision.redirect`). The profile's `exec` runs with the safe environment and the
 * manifest; a clean run answers the client with the handler's stdout as a synthetic tool result,
 * anything else keeps the block. Called from the one place every transport gets its request
 * decision (`McpScanOffload.decideRequest`), so stdio, the HTTP bridge, WebSocket and the
 * listeners redirect alike.
 *
 * Fail-closed cases (block `-32002`): unknown profile, start failure, non-zero exit, timeout
 * (30 s; the handler's process group is killed), output above 10 MiB. Output that fails the
 * response injection scan or DLP → `-32001`. Each run adds a `tool_redirect` fact (audit) and the
 * decision's verdict (`redirect` or `block`) is the receipt's.
 */
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {goJson} from '../canonical/index.js'
import {errorLine, mcpError, scanText, textResultLine, type McpContext, type McpDecision, type McpFact, type RedirectProfile} from '../mcp/index.js'
import {SAFE_ENV} from './child-env.js'

/** Handler wall-clock limit (§8.5 step 2). */
export const REDIRECT_TIMEOUT_MS = 30_000
/** Handler output cap, stdout and stderr each (containment.md §6 fix Q-R2). */
export const REDIRECT_MAX_OUTPUT = 10 * 1024 * 1024
/** The reference's self-exec path: mapped to this CLI (containment.md §6 [port]). */
const SELF_EXE = '/proc/self/exe'

export interface RedirectOptions {
  /** The environment the safe variables are copied from (pipelock's own). */
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly timeoutMs?: number
  /** `mcp_tool_policy.quarantine_dir`, passed in the manifest when set. */
  readonly quarantineDir?: string
}

interface HandlerRun {
  readonly ok: boolean
  readonly stdout: string
  readonly error: string
}

/** `sha256:<first 8 bytes hex> len=<n>` of the raw arguments JSON (§8.5 step 5). */
export function argsDigest(argsJson: string): string {
  const b = Buffer.from(argsJson)
  return `sha256:${createHash('sha256').update(b).digest('hex').slice(0, 16)} len=${b.length}`
}

/** The argv a profile runs: `/proc/self/exe` is this CLI (node + entry script) under Node. */
export function redirectArgv(exec: readonly string[]): string[] {
  if (exec[0] === SELF_EXE) return [process.execPath, ...(process.argv[1] !== undefined ? [process.argv[1]] : []), ...exec.slice(1)]
  return [...exec]
}

/** Runs the redirect of `d` (a decision with `redirect` set) and returns the final decision. */
export async function settleRedirect(ctx: McpContext, d: McpDecision, o: RedirectOptions = {}): Promise<McpDecision> {
  const req = d.redirect
  if (req === undefined) return d
  const started = Date.now()
  const at = d.transport === 'mcp_stdio' ? `input line ${d.line}: ` : 'input: '
  const argsJson = d.args === undefined || d.args === null ? '{}' : goJson(d.args)
  const profile: RedirectProfile | undefined = ctx.settings.policy?.redirectProfiles[req.profile]
  const base = {...d, redirect: undefined}
  delete (base as {redirect?: unknown}).redirect
  const fact = (result: 'redirected' | 'blocked'): McpFact => ({
    kind: 'tool_redirect', action: result === 'redirected' ? 'redirect' : 'block', name: req.profile, detail: d.tool,
    fields: {
      tool_name: d.tool, args_digest: argsDigest(argsJson), redirect_profile: req.profile, redirect_reason: profile?.reason ?? '',
      policy_rule: req.rule, result, latency_ms: Date.now() - started,
    },
  })
  const session = ctx.state.session ?? null
  const blocked = (why: string, key: 'tool_policy' | 'redirect_output_response' | 'redirect_output_dlp' = 'tool_policy'): McpDecision => {
    session?.signal('block', d.tool, `redirect:${req.profile}`)
    const err = mcpError(key)
    return {
      ...base, verdict: 'block', answer: errorLine(d.id, err), reason: err.reason,
      notes: [...d.notes, `${at}blocked tools/call "${d.tool}" (redirect profile "${req.profile}", rule "${req.rule}") [${why}]`],
      facts: [...(d.facts ?? []), fact('blocked')],
    }
  }
  if (profile === undefined) return blocked(`redirect profile "${req.profile}" not found`)
  const manifest: Record<string, unknown> = {profile: req.profile, command: profile.exec, reason: profile.reason ?? '', policy_rule: req.rule}
  if (o.quarantineDir !== undefined && o.quarantineDir !== '') manifest.quarantine_dir = o.quarantineDir
  const argv = redirectArgv(profile.exec)
  if (profile.preserve_argv === true) argv.push(argsJson)
  const parent = o.env ?? process.env
  const env: Record<string, string> = {}
  for (const k of SAFE_ENV) if (parent[k] !== undefined) env[k] = parent[k]!
  env.__PIPELOCK_REDIRECT_MANIFEST = JSON.stringify(manifest)
  const run = await runHandler(argv, env, o.timeoutMs ?? REDIRECT_TIMEOUT_MS)
  if (!run.ok) return blocked(`redirect failed: redirect handler failed: ${run.error}`)
  // The synthetic result is scanned like a server response before the client sees it (§8.5 step 4).
  const answer = textResultLine(d.id, run.stdout)
  const injection = scanText(ctx.deps.scanner, run.stdout).names
  if (injection.length > 0 && ctx.settings.responseAction !== 'warn') return blocked(`redirect output: ${injection.join(', ')}`, 'redirect_output_response')
  const dlp = ctx.deps.scanner.scanTextForDlp(run.stdout).matches
  if (dlp.length > 0) return blocked(`redirect output DLP: ${[...new Set(dlp.map((m) => m.pattern))].join(', ')}`, 'redirect_output_dlp')
  if (d.transport === 'mcp_stdio') session?.signal('near_miss', d.tool, `redirect:${req.profile}`)
  return {
    ...base, verdict: 'redirect', answer, reason: null,
    notes: [...d.notes, `${at}redirected tools/call "${d.tool}" to profile "${req.profile}" (rule "${req.rule}"${profile.reason ? `: ${profile.reason}` : ''})`],
    facts: [...(d.facts ?? []), fact('redirected')],
  }
}

/** Runs one handler in its own process group, output capped, killed (group) at the deadline. */
function runHandler(argv: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<HandlerRun> {
  return new Promise((resolve) => {
    let child
    try {
      child = spawn(argv[0]!, argv.slice(1), {env, stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    } catch (e) {
      resolve({ok: false, stdout: '', error: (e as Error).message})
      return
    }
    const out: Buffer[] = []
    const err: Buffer[] = []
    let outBytes = 0
    let errBytes = 0
    let failure: string | null = null
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    const timer = setTimeout(() => {
      failure ??= `timed out after ${timeoutMs / 1000}s`
      killGroup()
    }, timeoutMs)
    child.stdout!.on('data', (c: Buffer) => {
      outBytes += c.length
      if (outBytes > REDIRECT_MAX_OUTPUT) {
        failure ??= `output exceeds ${REDIRECT_MAX_OUTPUT} bytes`
        killGroup()
      } else out.push(c)
    })
    child.stderr!.on('data', (c: Buffer) => {
      errBytes += c.length
      if (errBytes <= 64 * 1024) err.push(c)
    })
    child.on('error', (e) => {
      failure ??= e.message
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      // A grandchild left holding the group is ended with it.
      killGroup()
      const stderr = Buffer.concat(err).toString('utf8').trim()
      if (failure === null && code !== 0) failure = signal !== null ? `signal: ${signal}` : `exit status ${code}`
      if (failure !== null) resolve({ok: false, stdout: '', error: `${failure}${stderr !== '' ? ` (stderr: ${stderr})` : ''}`})
      else resolve({ok: true, stdout: Buffer.concat(out).toString('utf8'), error: ''})
    })
  })
}
