/**
 * The download half of a CONNECT relay (upstream → client), bench: connect; "≥ 0.9× direct and ≤ 8 ms
 * CPU per 10 MiB". `pipe()` costs per chunk what node's stream reading costs: a fresh 64 KiB
 * allocation per read (shrunk, wrapped in an ArrayBuffer, collected later), the Readable's
 * buffering, and — since a 64 KiB chunk is over the writable's 16 KiB high-water mark — a
 * pause/resume of the upstream (read stop/start) per chunk. Here the upstream socket is created
 * with node's `onread` option: every read lands in one buffer owned by the tunnel, is written to
 * the client, and the same buffer takes the next read once the client's socket has no write
 * pending. When the kernel does not take a chunk at once (a slow client), reading stops until
 * that write completes, so at most one buffer of data is ever held per tunnel (backpressure:
 * nothing is buffered beyond it). Measured against `pipe()` in `bench/connect.ts`.
 *
 * A read that fills the whole buffer means the upstream had more queued than it takes (a bulk
 * download): the tunnel then switches once to a 512 KiB buffer, so a 10 MiB download costs ≈ 37
 * reads, writes and callbacks instead of ≈ 94 (strace, bench: connect; the per-chunk work in node's
 * stream and write path was most of the relay's user-space CPU). Tunnels that never fill 128 KiB
 * (interactive traffic, small responses) keep the small buffer; a large buffer's pages are touched
 * only as far as reads fill them. Backpressure is unchanged: at most one buffer (the 512 KiB one,
 * once switched) pends toward a slow client. The buffers come from the proxy's pool
 * (relay-buffer-pool.ts) and go back to it once both sockets have closed.
 *
 * The upload half (client → upstream) stays `pipe()`: the client socket comes from the HTTP
 * server, which gives no way to choose how it reads, and uploads are the small direction.
 */
import type {Socket} from 'node:net'
import type {Writable} from 'node:stream'
import type {RelayBufferPool} from './relay-buffer-pool.js'

/** One read's worth: 128 KiB halves the reads of a 64 KiB buffer (node's own read size). */
export const TUNNEL_READ_BUFFER_BYTES = 128 * 1024
/** A bulk download's read buffer, taken once a read fills the first one. */
export const TUNNEL_BULK_READ_BUFFER_BYTES = 512 * 1024
/** The read buffer until the relay starts (a slice of node's shared pool, no allocation of its own). */
const FIRST_READ_BYTES = 1024

/**
 * `net.connect`'s `onread` option: `buffer` names the buffer for the next read (node asks once
 * at connect and again after every read) and `callback` relays what landed in it.
 */
export interface OnRead {
  readonly buffer: () => Buffer
  readonly callback: (nread: number, buf: Buffer) => boolean
}

export class DownloadRelay {
  /** Pass to `net.connect`; the socket's reads go to `relay` from its first byte. */
  readonly onread: OnRead
  private upstream: Socket | null = null
  private client: Writable | null = null
  /** A chunk read before `start` (a server that speaks first), relayed first. */
  private early: Buffer | null = null
  /** Reading is stopped until the client's pending write completes. */
  private waiting = false
  /**
   * The buffer for the next read. The tunnel's own 128 KiB is allocated when the relay starts, not
   * at the dial: every admitted CONNECT dials first, and a burst of tunnels that never relay
   * (intercepted, refused at the first-record check, waiting on it) would otherwise each hold one,
   * counted by V8 as external memory (a burst of 1,100 CONNECTs: 137 MiB, and the GCs it triggers).
   */
  private next: Buffer = Buffer.allocUnsafe(FIRST_READ_BYTES)
  /** The buffers this relay took (from `pool`): given back once both sockets have closed. */
  private readonly owned: Buffer[] = []

  /** `pool`: where the relay's buffers come from and go back to (relay-buffer-pool.ts); without it they are allocated and left to the GC. */
  constructor(
    private bytes = TUNNEL_READ_BUFFER_BYTES,
    private readonly bulkBytes = TUNNEL_BULK_READ_BUFFER_BYTES,
    private readonly pool?: RelayBufferPool,
  ) {
    this.onread = {buffer: () => this.next, callback: (n, buf) => this.relay(n, buf)}
  }

  /** The size of the buffer reads land in once the relay runs (the first size, or the bulk size after a full read). */
  get bufferBytes(): number {
    return this.bytes
  }

  /** Starts relaying the upstream's reads to `client`; its end (EOF) ends the client's side. */
  start(upstream: Socket, client: Writable): void {
    this.upstream = upstream
    this.client = client
    // Uninitialised: no page is touched until a read fills it. Node switches to it after the next read.
    this.next = this.take(this.bytes)
    this.giveBackOnClose(upstream, client)
    const early = this.early
    this.early = null
    // An upstream that closed before the relay started (no byte read) ends the client's side now.
    if (early === null && upstream.readableEnded) return void client.end()
    upstream.once('end', () => client.end())
    if (early !== null && !this.send(early)) return
    upstream.resume()
  }

  private relay(n: number, buf: Buffer): boolean {
    if (this.client === null) {
      // Before the relay starts the chunk is kept (a copy: the buffer takes the next read) and
      // reading stops, so at most one chunk waits.
      this.early = Buffer.from(buf.subarray(0, n))
      return false
    }
    // The first read after `start` may still land in the small buffer: it is this relay's alone
    // too, and no read lands anywhere while a write holds it.
    const more = this.send(buf.subarray(0, n))
    // A full read of the relay's buffer: a bulk download. The next read (node asks for its buffer
    // after this callback) goes to the larger one; a write still holding this buffer keeps it.
    if (n === this.bytes && buf.length === n && n < this.bulkBytes) {
      this.bytes = this.bulkBytes
      this.next = this.take(this.bulkBytes)
    }
    return more
  }

  private take(bytes: number): Buffer {
    if (this.pool === undefined) return Buffer.allocUnsafe(bytes)
    const buf = this.pool.take(bytes)
    this.owned.push(buf)
    return buf
  }

  /**
   * Gives the relay's buffers back to the pool once both sockets have emitted 'close': their
   * handles are closed then, so libuv neither reads into a buffer nor writes from one (a pending
   * write is cancelled before the handle's close callback). A socket that never closes keeps them.
   */
  private giveBackOnClose(upstream: Socket, client: Writable): void {
    const pool = this.pool
    if (pool === undefined) return
    let open = 2
    const closed = (): void => {
      if (--open > 0) return
      for (const buf of this.owned.splice(0)) pool.give(buf)
    }
    upstream.once('close', closed)
    client.once('close', closed)
  }

  /** Writes one chunk; false (reading stops) while the client's socket still holds it. */
  private send(chunk: Buffer): boolean {
    const client = this.client!
    client.write(chunk, this.written)
    // Nothing pending: the kernel took the chunk during `write`, the buffer is free again.
    if (client.writableLength === 0) return true
    // The socket keeps a reference to the buffer until the write completes: no read may land in it.
    this.waiting = true
    return false
  }

  /** A write completed: reading resumes once nothing is pending (the buffer is free again). */
  private readonly written = (): void => {
    const client = this.client!
    if (!this.waiting || client.writableLength > 0 || client.destroyed) return
    this.waiting = false
    this.upstream!.resume()
  }
}
