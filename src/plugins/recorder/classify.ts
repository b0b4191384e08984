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
