// A progress line on stderr for long verifications: only on a terminal, only after the first
// second (short runs print nothing), at most five updates a second, erased when done.

export class ProgressLine {
  private readonly start: number
  private last = 0
  private shown = false

  constructor(
    private readonly stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr,
    private readonly label = 'verifying',
    private readonly now: () => number = Date.now,
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
    this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${items.toLocaleString('en-US')} receipts, ${rate.toLocaleString('en-US')}/s `)
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K')
  }
}
