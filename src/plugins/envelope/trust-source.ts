/**
 * `trust add --source <url>`: the peer's key directory, fetched over https (or http to a loopback
 * host), every redirect re-checked, 10 s timeout, at most 1 MiB of JSON (spec §10).
 */
import {PipelockError} from '../errors/index.js'
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
      return fail(`fetch ${source}: ${(e as Error).message}`)
    }
    const loc = res.headers.get('location')
    if ([301, 302, 303, 307, 308].includes(res.status) && loc !== null && hops < 5) {
      url = new URL(loc, url).href
      continue
    }
    if (res.status !== 200) return fail(`directory returned HTTP ${res.status}`)
    const text = await res.text()
    if (Buffer.byteLength(text) > MAX_DIRECTORY_BYTES) return fail(`directory exceeds ${MAX_DIRECTORY_BYTES} bytes`)
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (e) {
      return fail(`directory is not JSON: ${(e as Error).message}`)
    }
    const k = directoryKey(doc)
    if (typeof k === 'string') return fail(k)
    return k
  }
}
