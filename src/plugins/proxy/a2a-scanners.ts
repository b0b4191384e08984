/**
 * The proxy's own scanners as the A2A walk uses them (scanners-extra §2.4): the full URL scan for
 * URL fields, the response-injection scan and text DLP for text. Names only leave here.
 */
import type {A2aScanners} from '../a2a/index.js'
import {urlScan} from './core.js'
import type {ProxySnapshot} from './state.js'

export function a2aScanners(snap: ProxySnapshot): A2aScanners {
  return {
    url: (u) => urlScan(snap, u),
    injection: (t) => snap.scanner.scanResponse(t).matches.map((m) => m.pattern),
    dlp: (t) => snap.scanner.scanTextForDlp(t).matches.map((m) => m.pattern),
  }
}
