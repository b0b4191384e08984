/**
 * One HTTP POST over a dedicated undici `Client` (one keep-alive connection per sink, §3.8 item
 * 4). A sink's own client never consults HTTP(S)_PROXY: emission must not loop through pipelock's
 * own proxy (§3.2, a fix of the reference, whose Go client honours the variables).
 */
import type {Client} from 'undici'
import {Client as UndiciClient} from '../dispatch/index.js'

export interface PostResult {
  readonly status: number
}

export class SinkHttpClient {
  private readonly client: Client
  private readonly path: string

  constructor(url: string, private readonly timeoutMs: number) {
    const u = new URL(url)
    this.client = new UndiciClient(u.origin, {pipelining: 1, connectTimeout: timeoutMs, keepAliveTimeout: 30_000})
    this.path = u.pathname + u.search
  }

  /** POSTs `body`; resolves with the status or rejects with the transport error (timeout included). */
  async post(headers: Record<string, string>, body: Buffer | string): Promise<PostResult> {
    const signal = AbortSignal.timeout(this.timeoutMs)
    const res = await this.client.request({path: this.path, method: 'POST', headers, body, signal})
    // The response body is read and dropped so the connection can be reused.
    await res.body.dump({signal, limit: 64 * 1024})
    return {status: res.statusCode}
  }

  async close(): Promise<void> {
    await this.client.destroy().catch(() => undefined)
  }
}

/** Why a request failed, in one line without a stack (`timeout`, `ECONNREFUSED`, …). */
export function transportError(err: unknown): string {
  const e = err as {name?: string; code?: string; message?: string; cause?: {code?: string; message?: string}}
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout'
  return e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? String(err)
}
