export {
  isToolCall,
  type AirlockEvidence, type Decision, type DecisionStage, type ExceptionUse, type HitlEvidence, type HttpTransport, type McpDirection, type McpFact,
  type McpRedirectRequest, type McpStage, type McpTransport, type McpVerdict, type RequestDecision, type TaintEvidence, type ToolCallDecision,
} from './decision.js'
export {DecisionFanout, type DecisionSink} from './fanout.js'
