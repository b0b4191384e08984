/**
 * `trust add --source <url>`: the peer's key directory, fetched over https (or http to a loopback
 * host), every redirect re-checked, 10 s timeout, at most 1 MiB of JSON (spec §10).
 */
import {networkErrorReason, PipelockError, printable} from '../errors/index.js'
import {directoryKey} from './directory.js'
import {checkKeySource} from './trust-store.js'

const MAX_DIRECTORY_BYTES = 1 << 20

export async function fetchDirectoryKey(source: string): Promise<{keyId: string; publicKeyHex: string}> {
  const fail = (m: string): never => {
    throw new PipelockError('ENVELOPE_TRUST_INVALID', m)
  }
  let url = source
  const signal = AbortSignal.timeout(10_000)
  for (let hops = 0; ; hops++) {
    checkKeySource(url)
    let res: Response
    try {
      res = await fetch(url, {redirect: 'manual', signal})
    } catch (e) {
      return fail(`fetch ${source}: ${fetchFailure(e)}`)
    }
    const loc = res.headers.get('location')
    if ([301, 302, 303, 307, 308].includes(res.status) && loc !== null && hops < 5) {
      url = new URL(loc, url).href
      continue
    }
    if (res.status === 404) {
      // What a Pipelock answers there while it signs nothing: the likeliest cause, so say it.
      throw new PipelockError('ENVELOPE_TRUST_INVALID', `directory returned HTTP 404 from ${url}`, {
        hint: 'a Pipelock serves its key there only while it signs (mediation_envelope.enabled and sign: true, with signing_key_path); check the URL and the peer\'s config',
      })
    }
    if (res.status !== 200) return fail(`directory returned HTTP ${res.status}`)
    const text = await res.text()
    if (Buffer.byteLength(text) > MAX_DIRECTORY_BYTES) return fail(`directory exceeds ${MAX_DIRECTORY_BYTES} bytes`)
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch {
      // Said in words with what came instead (a login page, a web server's index): JSON.parse's
      // own message quotes an arbitrary stretch of the body.
      throw new PipelockError('ENVELOPE_TRUST_INVALID', `directory from ${url} is not JSON (${bodyShape(res.headers.get('content-type'), text)})`, {
        hint: "--source takes the peer's key directory, /.well-known/http-message-signatures-directory on its listener",
      })
    }
    const k = directoryKey(doc)
    if (typeof k === 'string') return fail(k)
    return k
  }
}

/** Why fetch() threw, in words: undici's own message is only "fetch failed", its cause says why. */
function fetchFailure(e: unknown): string {
  const err = e as Error & {cause?: {code?: unknown; message?: unknown}}
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no answer within 10 s'
  const code = err.cause?.code
  if (typeof code === 'string') return networkErrorReason(code)
  if (typeof err.cause?.message === 'string' && err.cause.message !== '') return err.cause.message
  return err.message
}

/** What a body that is not JSON looks like: its declared type and its first line, printable and cut at 40 characters. */
function bodyShape(contentType: string | null, text: string): string {
  const first = printable((text.trim().split('\n')[0] ?? '').trim())
  const start = first === '' ? 'an empty body' : `it begins ${JSON.stringify(first.length > 40 ? `${first.slice(0, 40)}…` : first)}`
  return `${contentType === null ? 'no Content-Type' : `Content-Type ${printable(contentType)}`}; ${start}`
}
