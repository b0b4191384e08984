import {parentPort, workerData} from 'node:worker_threads'
import type {ScannerSettings} from '../scanner/index.js'
import type {ScanAnswer, ScanRequest} from './shadow-scan-thread.js'
import {replayUrlScan, type ScannerReplayResult} from './shadow-scanner.js'

// Worker side of ScanWorker (shadow-scan-thread.ts): scans each batch of URLs with the replay
// settings it was started with and answers with the results in order. A replayed scan is a pure
// function of the URL and the settings, so this thread gives what the calling thread would.

const scan = replayUrlScan(workerData as ScannerSettings)

parentPort?.on('message', (m: ScanRequest) => {
  void (async (): Promise<void> => {
    let answer: ScanAnswer
    try {
      const results: ScannerReplayResult[] = []
      for (const url of m.urls) results.push(await scan(url))
      answer = {id: m.id, results}
    } catch (e) {
      answer = {id: m.id, error: (e as Error).message}
    }
    parentPort?.postMessage(answer)
  })()
})
