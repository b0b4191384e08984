// A progress line on stderr for long work (verify, compile, shadow): only on a terminal, only after the first
// second (short runs print nothing), at most five updates a second, erased when done.

export class ProgressLine {
  private readonly start: number
  private last = 0
  private shown = false

  constructor(
    private readonly stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr,
    private readonly label = 'verifying',
    private readonly now: () => number = Date.now,
    private readonly unit = 'receipts',
  ) {
    this.start = now()
  }

  get enabled(): boolean {
    return this.stream.isTTY === true
  }

  update(done: number, total: number, items: number): void {
    if (!this.enabled) return
    const now = this.now()
    if (now - this.start < 1000 || now - this.last < 200) return
    this.last = now
    this.shown = true
    const pct = total > 0 ? Math.min(100, Math.floor((done * 100) / total)) : 0
    const width = 30
    const filled = Math.round((pct * width) / 100)
    const rate = Math.round(items / ((now - this.start) / 1000))
    this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${items.toLocaleString('en-US')} ${this.unit}, ${rate.toLocaleString('en-US')}/s `)
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K')
  }
}

/**
 * The progress option of a long-running service call: `onProgress` only on a terminal and never
 * with `--json` (scripts get nothing on stderr but the audit line). Call `done()` in a finally.
 */
export function commandProgress(
  json: boolean,
  label: string,
  unit: string,
  stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr,
  now: () => number = Date.now,
): {option: {onProgress?: (done: number, total: number, items: number) => void}; done: () => void} {
  const line = new ProgressLine(stream, label, now, unit)
  if (json || !line.enabled) return {option: {}, done: () => {}}
  return {option: {onProgress: (d, t, n) => line.update(d, t, n)}, done: () => line.done()}
}
