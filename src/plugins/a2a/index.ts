/**
 * A2A (Agent-to-Agent protocol) scanning, scanners-extra §2: detection, the field-aware walk,
 * Agent Card poisoning and drift, context-id session smuggling. The scanners are the proxy's own,
 * handed in (`A2aScanners`); this plugin only decides what to scan and how to report it.
 */
export {A2A_METHODS, isA2aRequest, isAgentCardPath, mediaTypeOf, pathOf, routedPath} from './detect.js'
export {allStrings, classify, collectLeaves, decodeRawPart, looksLikeUri, MAX_WALK_DEPTH, MAX_WALK_NODES, BudgetExceeded} from './walker.js'
export type {A2aScanners, FieldClass, Leaf} from './walker.js'
export {authFingerprint, BoundedLru, CardBaseline, cardSemanticHash, CARD_BASELINE_ENTRIES} from './card.js'
export {ContextTracker, MAX_CONTEXT_BYTES, SMUGGLING_REASON} from './context-tracker.js'
export {a2aSettingsFromConfig, A2aState, scanA2aBody, scanA2aExtensions, scanAgentCard} from './scan.js'
export type {A2aSettings, A2aVerdict} from './scan.js'
export {A2A_STREAM_TAIL_BYTES, A2aStreamScanner, canonicalSseEvent} from './stream.js'
export type {A2aStreamResult} from './stream.js'
