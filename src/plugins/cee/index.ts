// Layer 2: cross-request exfiltration detection (operations §5): entropy budget and fragment
// reassembly across a session's requests, with bounded memory. State only; the proxy wires it.
export {CrossRequestDetector, newCeeCounters, CEE_MAX_KEYS, SWEEP_SLICE, type CeeSettings, type CeeCounters, type CeeFinding, type CeeResult} from './detector.js'
export {extractPayload, jsonStreams, jsonTextFields, rawQueryOf, BODY_PREFIX_BYTES, type CeeField, type CeePayload, type JsonStreams} from './payload.js'
export {COUNTER_STEP, FieldTails, FIELD_FRAGMENT_CHARS, FIELD_NAME_CHARS, FIELD_TAIL_CHARS, isCounterStep, MAX_FIELD_TAILS} from './field-tails.js'
export {EntropyBudget} from './entropy-budget.js'
export {payloadBits} from './entropy-bits.js'
export {FragmentBuffer, textDlpOf, type TextDlp} from './fragment-buffer.js'
export {LruMap} from './lru.js'
