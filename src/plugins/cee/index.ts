// Layer 2: cross-request exfiltration detection (operations §5): entropy budget and fragment
// reassembly across a session's requests, with bounded memory. State only; the proxy wires it.
export {CrossRequestDetector, newCeeCounters, CEE_MAX_KEYS, SWEEP_SLICE, type CeeSettings, type CeeCounters, type CeeFinding, type CeeResult} from './detector.js'
export {extractPayload, rawQueryOf, BODY_PREFIX_BYTES, type CeePayload} from './payload.js'
export {EntropyBudget} from './entropy-budget.js'
export {payloadBits} from './entropy-bits.js'
export {FragmentBuffer, textDlpOf, type TextDlp} from './fragment-buffer.js'
export {LruMap} from './lru.js'
