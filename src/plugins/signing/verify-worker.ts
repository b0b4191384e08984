import {parentPort} from 'node:worker_threads'
import {Ed25519BatchVerifier} from './ed25519.js'

// A verification worker (the receipts plugin's ParallelSignatureChecks starts one per core):
// verifies a batch of (public key, digest, signature) triples packed 128 bytes each, and answers
// with the index of the first failure or -1 (batches are answered in the order they arrive).
// It loads the Ed25519 module alone: each worker is a V8 isolate, and the rest of the signing
// plugin (rosters, key files) would cost ~5 MiB more per worker for nothing.

const RECORD = 128

function serve(): void {
  const verifier = new Ed25519BatchVerifier()
  parentPort?.on('message', (msg: {buffer: ArrayBuffer; count: number}) => {
    const bytes = new Uint8Array(msg.buffer)
    let failed = -1
    for (let i = 0; i < msg.count; i++) {
      const o = i * RECORD
      if (!verifier.verify(bytes.subarray(o, o + 32), bytes.subarray(o + 32, o + 64), bytes.subarray(o + 64, o + 128))) {
        failed = i
        break
      }
    }
    parentPort?.postMessage(failed)
  })
}

serve()
