import {chainFilesInDir, parseRecorderEntry, readLines} from '../receipts/index.js'

// What a restarted recorder session continues from: the last v1 action receipt (and whether a
// transcript root sealed the chain after it) and the last v2 proxy_decision receipt. One pass
// over the session's files, newest first, shared by both emitters at start-up.

export interface RecorderTails {
  /** The last action receipt's detail in the newest file holding one. */
  action?: {detailRaw: string; sealedAfter: boolean}
  /** The last v2 `proxy_decision` receipt's detail in the newest file holding one. */
  proxyDecision?: string
}

export async function scanRecorderTails(dir: string, sessionId: string): Promise<RecorderTails> {
  const out: RecorderTails = {}
  const files = await chainFilesInDir(dir, sessionId)
  for (let f = files.length - 1; f >= 0 && (out.action === undefined || out.proxyDecision === undefined); f--) {
    let action: string | undefined
    let sealedAfter = false
    let decision: string | undefined
    for await (const line of readLines(files[f] as string)) {
      const text = line.text?.trim()
      if (!text) continue
      let entry
      try {
        entry = parseRecorderEntry(text)
      } catch {
        continue // an unreadable line does not stop a resume; verifiers will report it
      }
      if (entry.type === 'action_receipt') {
        action = entry.detailRaw
        sealedAfter = false
      } else if (entry.type === 'transcript_root' && action !== undefined) {
        sealedAfter = true
      } else if (entry.type === 'evidence_receipt' && (entry.eventKind === 'proxy_decision' || entry.eventKind === 'config_change')) {
        // The live emitter's one v2 chain holds both kinds (config_change: operations.md §8.2).
        decision = entry.detailRaw
      }
    }
    if (out.action === undefined && action !== undefined) out.action = {detailRaw: action, sealedAfter}
    if (out.proxyDecision === undefined && decision !== undefined) out.proxyDecision = decision
  }
  return out
}
