// Action classification of an HTTP method (receipts.md §8): exact uppercase method names.

export interface ActionClass {
  actionType: string
  sideEffectClass: string
  reversibility: string
}

const READ: ActionClass = {actionType: 'read', sideEffectClass: 'external_read', reversibility: 'full'}
const WRITE: ActionClass = {actionType: 'write', sideEffectClass: 'external_write', reversibility: 'compensatable'}
const DELETE: ActionClass = {actionType: 'write', sideEffectClass: 'external_write', reversibility: 'irreversible'}
const OTHER: ActionClass = {actionType: 'unclassified', sideEffectClass: 'none', reversibility: 'unknown'}

export function classifyHttpMethod(method: string | undefined): ActionClass {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
    case 'TRACE':
    case 'CONNECT':
      return READ
    case 'POST':
    case 'PUT':
    case 'PATCH':
      return WRITE
    case 'DELETE':
      return DELETE
    default:
      return OTHER
  }
}

const MCP_READ_METHODS: ReadonlySet<string> = new Set(['tools/list', 'resources/list', 'prompts/list', 'resources/read', 'prompts/get'])
const TOOL_PREFIXES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['read', ['get', 'list', 'read', 'search', 'find', 'query', 'fetch', 'show', 'describe', 'check']],
  ['write', ['set', 'create', 'update', 'delete', 'remove', 'write', 'put', 'post', 'add', 'modify', 'edit', 'patch']],
  ['delegate', ['run', 'exec', 'execute', 'spawn', 'invoke', 'call']],
]

/** A prefix counts when followed by the end, `_`, `-` or an uppercase letter (receipts §8). */
function hasToolPrefix(tool: string, prefix: string): boolean {
  if (tool.length < prefix.length || tool.slice(0, prefix.length).toLowerCase() !== prefix) return false
  const next = tool.charAt(prefix.length)
  return next === '' || next === '_' || next === '-' || (next >= 'A' && next <= 'Z')
}

function mcpSideEffect(actionType: string): string {
  switch (actionType) {
    case 'read':
      return 'external_read'
    case 'write':
    case 'commit':
    case 'delegate':
      return 'external_write'
    default:
      return 'none'
  }
}

/** MCP classification (receipts §8): read methods, `tools/call` by tool-name prefix; reversibility `unknown`. */
export function classifyMcp(method: string, tool: string): ActionClass {
  let actionType = 'unclassified'
  if (MCP_READ_METHODS.has(method)) actionType = 'read'
  else if (method === 'tools/call') {
    for (const [type, prefixes] of TOOL_PREFIXES) {
      if (prefixes.some((p) => hasToolPrefix(tool, p))) {
        actionType = type
        break
      }
    }
  }
  return {actionType, sideEffectClass: mcpSideEffect(actionType), reversibility: 'unknown'}
}
