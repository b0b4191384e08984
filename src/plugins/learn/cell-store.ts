import {copyString} from '../canonical/index.js'
import {grown, grownBuffer} from './grown.js'

/**
 * Value → occurrences: exact nearest-rank percentiles without keeping every sample (the size
 * budgets, §7.5).
 */
export type SampleCounts = Map<number, number>

// A cell's record: STRIDE numbers of `cells`, one cache-friendly block (a cell is found at random
// for each event, so its fields sit together rather than in an array each).
const NEXT = 0 // the node's next cell (-1: none)
const METHOD = 1
const ACTION = 2
const COUNT = 3
/** Sessions: the first value, then the rest (-1: none; ≥ 0: a pool chain; ≤ -2: `big[-x - 2]`). */
const S0 = 4
const SMORE = 5
/** Windows, the same way. */
const W0 = 6
const WMORE = 7
/** Payload and scanner sizes: the first value, its count, then a `SampleCounts` (`more[x]`, -1: none). */
const PV = 8
const PN = 9
const PM = 10
const SV = 11
const SN = 12
const SM = 13
const STRIDE = 16

/** A set longer than this (first value and chain) becomes a `Set`, so a lookup never walks far. */
const CHAIN_LIMIT = 8

// A node's record in `nodes`: its hash, host number, first cell and where its path starts in `arena`.
const N_HASH = 0
const N_HOST = 1
const N_FIRST = 2
const N_PATH = 3
const N_STRIDE = 4

/**
 * What compile folds its events into (§5–§6): nodes, one per distinct (host, path), each with its
 * cells, one per (method, action) it was seen with. Half a million of each at 1M realistic events
 * (most paths carry ids, hashes or UUIDs): as JS objects — a node, a cell, a copied path string, a
 * `Set` for the sessions and windows of a quarter of them, a map entry per path — they were most
 * of the heap the collector traced and copied while reading, and the map inserts most of the
 * lookup cost (bench: compile). Here they are records in typed arrays, found through one
 * open-addressing table, and a path is bytes in an arena (paths are byte strings): the collector
 * sees a few large arrays; strings are made per host when it is finished.
 *
 * The table's hash is seeded (`seed`): paths come from the traffic, and a fixed hash would let
 * traffic built to collide make every lookup walk a long run of the table.
 */
export class CellStore {
  private hostNumbers = new Map<string, number>()
  private hostNames: string[] = []
  private nodes = new Int32Array(1024 * N_STRIDE)
  private nodeCount = 0
  /** Open addressing, linear probing: [hash, node + 1] pairs (0: empty), at most half full. */
  private table = new Int32Array(2048 * 2)
  private arena = Buffer.alloc(64 * 1024)
  private arenaUsed = 0
  private cells = new Float64Array(1024 * STRIDE)
  private cellCount = 0
  /** Set chains: [value, next] pairs. */
  private pool = new Float64Array(1024 * 2)
  private poolUsed = 0
  private big: Set<number>[] = []
  private more: SampleCounts[] = []
  /** Whether the last `node` call created the node. */
  created = false

  constructor(private readonly seed: number) {}

  /** The number of a host, given one on its first sighting. */
  private host(name: string): number {
    let n = this.hostNumbers.get(name)
    if (n === undefined) {
      n = this.hostNames.length
      // An own copy: the name may be a slice of a capture line, which it would keep alive.
      const own = copyString(name)
      this.hostNumbers.set(own, n)
      this.hostNames.push(own)
    }
    return n
  }

  hostName(host: number): string {
    return this.hostNames[host] as string
  }

  get hostCount(): number {
    return this.hostNames.length
  }

  /**
   * The node of (host, path), created on its first sighting (`created`). Both are byte strings;
   * the host is numbered (`host`) only then, so a known node costs no host lookup.
   */
  node(host: string, path: string): number {
    let h = Math.imul(this.seed, 0x9e3779b1)
    for (let i = 0; i < host.length; i++) h = Math.imul(h ^ host.charCodeAt(i), 0x01000193)
    // 0x100 is no byte: the host ends here.
    h = Math.imul(h ^ 0x100, 0x01000193)
    for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193)
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
    h ^= h >>> 13
    const mask = (this.table.length >>> 1) - 1
    let s = h & mask
    for (;;) {
      const id = this.table[2 * s + 1] as number
      if (id === 0) break
      if (this.table[2 * s] === h && this.isNode(id - 1, host, path)) {
        this.created = false
        return id - 1
      }
      s = (s + 1) & mask
    }
    const n = this.nodeCount++
    this.nodes = grown(this.nodes, (n + 1) * N_STRIDE)
    const r = n * N_STRIDE
    this.nodes[r + N_HASH] = h
    this.nodes[r + N_HOST] = this.host(host)
    this.nodes[r + N_FIRST] = -1
    this.nodes[r + N_PATH] = this.arenaUsed
    this.arena = grownBuffer(this.arena, this.arenaUsed, this.arenaUsed + path.length)
    for (let i = 0; i < path.length; i++) {
      const c = path.charCodeAt(i)
      if (c > 0xff) throw new Error('compile path is not a byte string')
      this.arena[this.arenaUsed++] = c
    }
    this.table[2 * s] = h
    this.table[2 * s + 1] = n + 1
    if (2 * this.nodeCount > mask + 1) this.rehash()
    this.created = true
    return n
  }

  private isNode(n: number, host: string, path: string): boolean {
    const r = n * N_STRIDE
    const start = this.nodes[r + N_PATH] as number
    if (this.pathEnd(n) - start !== path.length) return false
    for (let i = 0; i < path.length; i++) if (this.arena[start + i] !== path.charCodeAt(i)) return false
    return this.hostNames[this.nodes[r + N_HOST] as number] === host
  }

  private pathEnd(n: number): number {
    return n + 1 < this.nodeCount ? (this.nodes[(n + 1) * N_STRIDE + N_PATH] as number) : this.arenaUsed
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2)
    const mask = (table.length >>> 1) - 1
    for (let n = 0; n < this.nodeCount; n++) {
      const h = this.nodes[n * N_STRIDE + N_HASH] as number
      let s = h & mask
      while (table[2 * s + 1] !== 0) s = (s + 1) & mask
      table[2 * s] = h
      table[2 * s + 1] = n + 1
    }
    this.table = table
  }

  /** The nodes of every host in the order they were first seen: host `h`'s are `order[start[h] … start[h + 1])`. */
  nodesByHost(): {start: Int32Array; order: Int32Array} {
    const start = new Int32Array(this.hostNames.length + 1)
    for (let n = 0; n < this.nodeCount; n++) start[(this.nodes[n * N_STRIDE + N_HOST] as number) + 1]++
    for (let h = 0; h < this.hostNames.length; h++) start[h + 1] += start[h] as number
    const at = start.slice(0, this.hostNames.length)
    const order = new Int32Array(this.nodeCount)
    for (let n = 0; n < this.nodeCount; n++) order[at[this.nodes[n * N_STRIDE + N_HOST] as number]++] = n
    return {start, order}
  }

  /** A node's path, as a (new) string. */
  path(n: number): string {
    return this.arena.toString('latin1', this.nodes[n * N_STRIDE + N_PATH] as number, this.pathEnd(n))
  }

  /** The first cell of a node (-1 when it has none); the rest follow through `nextCell`. */
  firstCell(node: number): number {
    return this.nodes[node * N_STRIDE + N_FIRST] as number
  }

  nextCell(cell: number): number {
    return this.cells[cell * STRIDE + NEXT] as number
  }

  method(cell: number): number {
    return this.cells[cell * STRIDE + METHOD] as number
  }

  action(cell: number): number {
    return this.cells[cell * STRIDE + ACTION] as number
  }

  count(cell: number): number {
    return this.cells[cell * STRIDE + COUNT] as number
  }

  /** Folds one event into the cell of (node, method, action), created on its first event. */
  fold(node: number, method: number, action: number, session: number, window: number, payload: number, scanner: number): void {
    const c = this.cells
    let cell = this.nodes[node * N_STRIDE + N_FIRST] as number
    let last = -1
    while (cell >= 0 && !(c[cell * STRIDE + METHOD] === method && c[cell * STRIDE + ACTION] === action)) {
      last = cell
      cell = c[cell * STRIDE + NEXT] as number
    }
    if (cell < 0) {
      cell = this.newCell(method, action, session, window, payload, scanner)
      if (last < 0) this.nodes[node * N_STRIDE + N_FIRST] = cell
      else this.cells[last * STRIDE + NEXT] = cell
      return
    }
    const b = cell * STRIDE
    c[b + COUNT]++
    this.setAdd(b + S0, session)
    this.setAdd(b + W0, window)
    this.tally(b + PV, payload)
    this.tally(b + SV, scanner)
  }

  private newCell(method: number, action: number, session: number, window: number, payload: number, scanner: number): number {
    const cell = this.cellCount++
    this.cells = grown(this.cells, (cell + 1) * STRIDE)
    const c = this.cells
    const b = cell * STRIDE
    c[b + NEXT] = -1
    c[b + METHOD] = method
    c[b + ACTION] = action
    c[b + COUNT] = 1
    c[b + S0] = session
    c[b + SMORE] = -1
    c[b + W0] = window
    c[b + WMORE] = -1
    c[b + PV] = payload
    c[b + PN] = 1
    c[b + PM] = -1
    c[b + SV] = scanner
    c[b + SN] = 1
    c[b + SM] = -1
    return cell
  }

  /** Adds `v` to the set at `cells[at]` (its first value; its rest at `at + 1`). */
  private setAdd(at: number, v: number): void {
    const c = this.cells
    if (c[at] === v) return
    const rest = c[at + 1] as number
    if (rest <= -2) {
      ;(this.big[-rest - 2] as Set<number>).add(v)
      return
    }
    let size = 1
    for (let e = rest; e >= 0; e = this.pool[2 * e + 1] as number) {
      if (this.pool[2 * e] === v) return
      size++
    }
    if (size < CHAIN_LIMIT) {
      const e = this.poolUsed++
      this.pool = grown(this.pool, 2 * (e + 1))
      this.pool[2 * e] = v
      this.pool[2 * e + 1] = rest
      c[at + 1] = e
      return
    }
    const set = new Set<number>()
    this.setInto(at, set)
    set.add(v)
    c[at + 1] = -2 - this.big.length
    this.big.push(set)
  }

  private setInto(at: number, out: Set<number>): void {
    const rest = this.cells[at + 1] as number
    if (rest <= -2) {
      for (const v of this.big[-rest - 2] as Set<number>) out.add(v)
      return
    }
    out.add(this.cells[at] as number)
    for (let e = rest; e >= 0; e = this.pool[2 * e + 1] as number) out.add(this.pool[2 * e] as number)
  }

  private setSize(at: number): number {
    const rest = this.cells[at + 1] as number
    if (rest <= -2) return (this.big[-rest - 2] as Set<number>).size
    let size = 1
    for (let e = rest; e >= 0; e = this.pool[2 * e + 1] as number) size++
    return size
  }

  /** A cell's distinct sessions and windows. */
  sessionCount(cell: number): number {
    return this.setSize(cell * STRIDE + S0)
  }

  windowCount(cell: number): number {
    return this.setSize(cell * STRIDE + W0)
  }

  /** Adds a cell's sessions and windows to `sessions` and `windows`. */
  placesInto(cell: number, sessions: Set<number>, windows: Set<number>): void {
    this.setInto(cell * STRIDE + S0, sessions)
    this.setInto(cell * STRIDE + W0, windows)
  }

  /** One more sample `v` of the tally at `cells[at]` (value, count, map). */
  private tally(at: number, v: number): void {
    const c = this.cells
    const m = c[at + 2] as number
    if (m >= 0) {
      const more = this.more[m] as SampleCounts
      more.set(v, (more.get(v) ?? 0) + 1)
    } else if (c[at] === v) c[at + 1]++
    else {
      c[at + 2] = this.more.length
      this.more.push(
        new Map([
          [c[at] as number, c[at + 1] as number],
          [v, 1],
        ]),
      )
    }
  }

  /** Adds a cell's payload and scanner samples to `payload` and `scanner`. */
  samplesInto(cell: number, payload: SampleCounts, scanner: SampleCounts): void {
    this.tallyInto(cell * STRIDE + PV, payload)
    this.tallyInto(cell * STRIDE + SV, scanner)
  }

  private tallyInto(at: number, into: SampleCounts): void {
    const c = this.cells
    const m = c[at + 2] as number
    if (m < 0) {
      const v = c[at] as number
      into.set(v, (into.get(v) ?? 0) + (c[at + 1] as number))
    } else for (const [v, n] of this.more[m] as SampleCounts) into.set(v, (into.get(v) ?? 0) + n)
  }
}
