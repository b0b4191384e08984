/**
 * Per-domain sliding-window state (§5.15, §5.16). Time comes from an injected clock so tests are
 * deterministic. Check-and-record is synchronous, hence atomic in single-threaded JS (§25.8).
 */
import type {Clock} from '../canonical/index.js'
import {parseIp} from './ip.js'

const WINDOW_NS = 60_000_000_000n

/** Multi-label public suffixes we know without a PSL (subset; see docs/scanner.md gap). */
const MULTI_LABEL_SUFFIXES = new Set([
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'me.uk', 'ltd.uk', 'plc.uk', 'net.uk', 'co.jp', 'ne.jp', 'or.jp', 'ac.jp',
  'com.au', 'net.au', 'org.au', 'edu.au', 'gov.au', 'co.nz', 'org.nz', 'com.br', 'com.cn', 'net.cn', 'org.cn',
  'com.mx', 'co.in', 'co.za', 'com.tr', 'com.tw', 'co.kr', 'com.sg', 'com.hk', 'com.ar', 'amazonaws.com',
  'appspot.com', 'herokuapp.com', 'github.io', 'githubusercontent.com', 'cloudfront.net', 'azurewebsites.net',
  'blogspot.com', 'vercel.app', 'netlify.app', 'pages.dev', 'workers.dev', 'fly.dev', 'onrender.com',
])

/**
 * Registrable domain (eTLD+1) approximation: IPs as-is; the last three labels when the last two
 * are a known multi-label suffix, else the last two. The reference uses the full Public Suffix
 * List (with private entries); callers with a PSL can inject their own function.
 */
export function approximateRegistrableDomain(host: string): string {
  const l = host.toLowerCase()
  const h = l.endsWith('.') ? l.slice(0, -1) : l
  if (parseIp(h) !== null) return h
  const labels = h.split('.')
  if (labels.length <= 2) return h
  const last2 = labels.slice(-2).join('.')
  if (MULTI_LABEL_SUFFIXES.has(last2)) return labels.slice(-3).join('.')
  return last2
}

/**
 * One key's window: request times in clock order; `ts[head…]` are the live ones. A time is kept
 * as nanoseconds after `base` in a plain number (an unboxed double): exact while within ±2^53,
 * and kept within ±2^52 by rebasing, so every comparison is the BigInt one. Before, each request
 * left a BigInt in the window for 60 s — a heap object per request that survived into the old
 * generation (bench: proxy; promoted bytes and CPU per proxied request).
 */
interface RequestWindow {
  ts: number[]
  head: number
  base: bigint
  /**
   * Absolute times instead of `ts`, only while a rebase could not keep every live time within
   * ±2^52 ns of now (the wall clock jumped by weeks): until the window next empties.
   */
  big: bigint[] | null
}

/** The largest |time − base| kept in `ts` (ns, ≈ 52 days): differences of two stay below 2^53. */
const REBASE_NS = 2 ** 52
const REBASE_NS_BIG = 2n ** 52n
const WINDOW_NS_NUM = 60_000_000_000

/** The requests a window takes: the rate limit is always on, 0 or negative → 60 (§5.15). */
function requestsPerWindow(limit: number): number {
  return limit <= 0 ? 60 : limit
}

export class RateLimiter {
  private readonly windows = new Map<string, RequestWindow>()
  constructor(private readonly clock: Clock) {}

  /** Records this request and reports whether it is within `limit` per 60 s (the current one counts). */
  checkAndRecord(key: string, limit: number): boolean {
    const max = requestsPerWindow(limit)
    const now = this.clock.nowNanos()
    let w = this.windows.get(key)
    if (w === undefined) {
      w = {ts: [], head: 0, base: now, big: null}
      this.windows.set(key, w)
    }
    if (w.big !== null && !leaveBig(w, now)) return checkBig(w, now, max)
    let rel = Number(now - w.base)
    if (rel > REBASE_NS || rel < -REBASE_NS) {
      if (!rebase(w, now)) return checkBig(w, now, max)
      rel = 0
    }
    // Times are appended in clock order, so expired ones sit at the front. They are skipped by
    // moving `head` and dropped in one copy once they are half the array (bench: proxy; removing them
    // from the front per request was a copy of the whole window per request).
    const ts = w.ts
    let head = w.head
    while (head < ts.length && rel - ts[head]! >= WINDOW_NS_NUM) head++
    if (head >= 64 && head * 2 >= ts.length) {
      w.ts = ts.slice(head)
      head = 0
    }
    w.head = head
    if (w.ts.length - head >= max) return false
    w.ts.push(rel)
    return true
  }

  /**
   * Whole seconds until `key`'s window has room for one more request under `limit` (at least 1):
   * when the request that must age out first leaves the 60 s window. For a `Retry-After` after
   * `checkAndRecord` refused; 0 when there is room now.
   */
  retryAfterSeconds(key: string, limit: number): number {
    const max = requestsPerWindow(limit)
    const w = this.windows.get(key)
    if (w === undefined) return 0
    const now = this.clock.nowNanos()
    const at = (i: number): bigint => (w.big !== null ? w.big[i]! : w.base + BigInt(w.ts[i]!))
    // Times are in clock order, so the live ones are the last of them: no copy of the window.
    const n = (w.big ?? w.ts).length
    let first = w.head
    while (first < n && now - at(first) >= WINDOW_NS) first++
    if (n - first < max) return 0
    // The oldest `n - first - max + 1` requests must leave before one more fits.
    const ns = at(n - max) + WINDOW_NS - now
    return Math.max(1, Number((ns + 999_999_999n) / 1_000_000_000n))
  }
}

/** Times relative to `now`; false (and the window's absolute times kept in `big`) when one is out of range. */
function rebase(w: RequestWindow, now: bigint): boolean {
  const out: number[] = []
  for (let i = w.head; i < w.ts.length; i++) {
    const d = w.base + BigInt(w.ts[i]!) - now
    if (d > REBASE_NS_BIG || d < -REBASE_NS_BIG) {
      w.big = w.ts.slice(w.head).map((t) => w.base + BigInt(t))
      w.ts = []
      w.head = 0
      return false
    }
    out.push(Number(d))
  }
  w.ts = out
  w.head = 0
  w.base = now
  return true
}

/** Back to relative times once every absolute time has expired (the window is empty). */
function leaveBig(w: RequestWindow, now: bigint): boolean {
  const big = w.big!
  let head = w.head
  while (head < big.length && now - big[head]! >= WINDOW_NS) head++
  w.head = head
  if (head < big.length) return false
  w.big = null
  w.ts = []
  w.head = 0
  w.base = now
  return true
}

/** The window with absolute times (the BigInt form this limiter always used before). */
function checkBig(w: RequestWindow, now: bigint, max: number): boolean {
  let big = w.big!
  let head = w.head
  while (head < big.length && now - big[head]! >= WINDOW_NS) head++
  if (head >= 64 && head * 2 >= big.length) {
    big = w.big = big.slice(head)
    head = 0
  }
  w.head = head
  if (big.length - head >= max) return false
  big.push(now)
  return true
}

interface ByteWindow {
  e: Array<{t: bigint; bytes: number}>
  head: number
  sum: number
  ordered: boolean
}

export class DataBudget {
  private readonly windows = new Map<string, ByteWindow>()
  constructor(private readonly clock: Clock) {}

  /**
   * Drops expired entries. While the entries are in clock order the expired ones are a prefix,
   * skipped by `head` with a running sum (bench: proxy; filtering and summing the whole window on
   * every check was O(window) per request); after the clock stepped back, the whole window is
   * filtered as before until it is rebuilt.
   */
  private current(key: string): ByteWindow {
    const now = this.clock.nowNanos()
    let w = this.windows.get(key)
    if (w === undefined) {
      w = {e: [], head: 0, sum: 0, ordered: true}
      this.windows.set(key, w)
    }
    if (!w.ordered) {
      const live = w.e.slice(w.head).filter((x) => now - x.t < WINDOW_NS)
      w.e = live
      w.head = 0
      w.sum = live.reduce((a, x) => a + x.bytes, 0)
      w.ordered = live.every((x, i) => i === 0 || live[i - 1]!.t <= x.t)
      return w
    }
    while (w.head < w.e.length && now - w.e[w.head]!.t >= WINDOW_NS) w.sum -= w.e[w.head++]!.bytes
    if (w.head >= 64 && w.head * 2 >= w.e.length) {
      w.e = w.e.slice(w.head)
      w.head = 0
    }
    if (w.head === w.e.length) w.sum = 0 // no float drift once empty
    return w
  }

  /** True when the window is already at or over the limit (`limit` ≤ 0 = off). */
  isExhausted(key: string, limit: number): boolean {
    if (limit <= 0) return false
    return this.current(key).sum >= limit
  }

  /** Bytes are recorded after a response is read (§5.16). */
  record(key: string, bytes: number): void {
    if (bytes <= 0) return
    const w = this.current(key)
    const t = this.clock.nowNanos()
    const last = w.e[w.e.length - 1]
    if (last !== undefined && t < last.t) w.ordered = false
    w.e.push({t, bytes})
    w.sum += bytes
  }
}
