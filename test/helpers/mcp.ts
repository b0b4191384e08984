import assert from 'node:assert/strict'
import {McpError} from '@modelcontextprotocol/sdk/types.js'

/** Awaits a call that must fail with a JSON-RPC error and returns it. */
export async function rejection(p: Promise<unknown>): Promise<McpError> {
  try {
    await p
  } catch (e) {
    if (e instanceof McpError) return e
    throw e
  }
  assert.fail('expected a JSON-RPC error')
}
