/**
 * `pipelock run`'s capture for learn-and-lock as a fan-out sink whose target follows the config:
 * `learn.enabled` with `learn.capture_dir` (or the fixed `--capture-output` directory) and the
 * salt of `learn.privacy.salt_source`. A reload that changes them closes the capture sink (its
 * queue flushed, final checkpoints written) and opens the new one, so capture starts, stops or
 * moves with the file instead of staying as it was at start-up. The new target is checked while
 * the reload loads (`check`): a directory that cannot be used, or a salt that cannot be read,
 * refuses the reload as it refuses start-up.
 */
import path from 'node:path'
import {prepareCaptureDir, resolveSalt} from '../capture/index.js'
import type {PipelockConfig} from '../config/index.js'
import type {AirlockEvidence, Decision, DecisionSink} from '../decision/index.js'
import {PipelockError} from '../errors/index.js'
import {renderCaptureCounters, type CaptureSink} from './capture-sink.js'

/** Where capture writes and with which salt; undefined dir = no capture. */
export interface CaptureTarget {
  readonly dir: string | undefined
  readonly salt: string | undefined
}

export interface LiveCaptureOptions {
  /** `--capture-output` / `learn observe`: the directory, whatever `learn` says. */
  readonly fixedDir?: string
  /** `--capture-raw`: no salt is used. */
  readonly raw: boolean
  readonly env: Readonly<Record<string, string | undefined>>
  /** Opens the sink for a target (the run's clock, snapshot, build, escrow key). */
  readonly open: (dir: string, salt: string | undefined) => CaptureSink
}

export class LiveCapture implements DecisionSink {
  private sink: CaptureSink | undefined
  private target: CaptureTarget
  /** `--capture-duration` ran out: capture stays off whatever a reload says. */
  private ended = false

  constructor(private readonly opts: LiveCaptureOptions, config: PipelockConfig) {
    this.target = this.targetOf(config)
    if (this.target.dir !== undefined) this.sink = opts.open(this.target.dir, this.target.salt)
  }

  /** The directory and salt `config` asks for (throws when its salt source cannot be read). */
  targetOf(config: PipelockConfig): CaptureTarget {
    const dir = this.opts.fixedDir ?? (config.learn.enabled ? config.learn.capture_dir : undefined)
    if (dir === undefined) return {dir: undefined, salt: undefined}
    if (dir === '' || !path.isAbsolute(dir)) throw new PipelockError('USAGE', `capture directory must be an absolute path, got ${JSON.stringify(dir)}`)
    return {dir, salt: this.opts.raw ? undefined : resolveSalt(config.learn.privacy.salt_source, this.opts.env)}
  }

  get current(): CaptureSink | undefined {
    return this.sink
  }

  /** The directory written now, if any. */
  get dir(): string | undefined {
    return this.sink === undefined ? undefined : this.target.dir
  }

  /** Throws (as at start-up) when `config`'s capture target differs and cannot be used. */
  check(config: PipelockConfig): void {
    const t = this.targetOf(config)
    if (t.dir !== undefined && t.dir !== this.target.dir) prepareCaptureDir(t.dir)
  }

  /**
   * A reload: the target of `config`, applied when it differs. `opened` is the new sink (its
   * banner line is the caller's), `closed` whether one was closed; nothing when unchanged.
   */
  apply(config: PipelockConfig): {opened?: CaptureSink; closed: boolean} | undefined {
    if (this.ended) return undefined
    const t = this.targetOf(config)
    if (t.dir === this.target.dir && t.salt === this.target.salt) return undefined
    // Open first: a failure keeps the running capture (and its target) as it was.
    const opened = t.dir === undefined ? undefined : this.opts.open(t.dir, t.salt)
    const old = this.sink
    this.sink = opened
    this.target = t
    old?.close()
    return {...(opened !== undefined ? {opened} : {}), closed: old !== undefined}
  }

  record = (d: Decision): void => {
    this.sink?.record(d)
  }

  recordAirlock(c: AirlockEvidence): void {
    this.sink?.recordAirlock?.(c)
  }

  /** The gate reads a request's method overrides only while a capture records them. */
  get readsMethodOverrides(): boolean {
    return this.sink?.readsMethodOverrides === true
  }

  renderMetrics(out: string[]): void {
    if (this.sink !== undefined) this.sink.renderMetrics(out)
    else renderCaptureCounters(out, {written: 0, dropped: 0, sanitized: new Map(), claimsRefused: 0})
  }

  /** `--capture-duration` reached (or shutdown): closes the sink for good. */
  close(): void {
    this.ended = true
    this.sink?.close()
    this.sink = undefined
  }
}
