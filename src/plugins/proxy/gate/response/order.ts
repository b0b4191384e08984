/**
 * The one order of the response gate (docs/architecture.md, "The response gate"): the transforms
 * (Browser Shield, A2A response and Agent Card checks) first, so hidden traps leave the page before
 * anything reads it → the media policy (sniffs real media, strips image metadata) → /fetch's page
 * text → the injection scan (an `ask` held for an operator) → /fetch's hidden-content scan. A new
 * response stage is one file in stages/ and one entry here.
 */
import type {ResponseStageId} from './context.js'

export const RESPONSE_STAGE_ORDER: readonly ResponseStageId[] = ['transform', 'media_policy', 'page_text', 'response_scan', 'hidden_content']
