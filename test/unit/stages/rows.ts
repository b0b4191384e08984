/**
 * The check every stage table gets (request and response, HTTP and MCP): each transport row names
 * every stage of its order — the stage of that id, or a skip that says why — and the row's stages
 * run in the one order.
 */
import assert from 'node:assert/strict'
import {isSkip, rowStages, type Skip} from '../../../src/plugins/stages/index.js'

export function assertRowsNameEveryStage<Id extends string, S extends {readonly id: Id}>(
  order: readonly Id[], rows: Readonly<Record<string, Readonly<Record<Id, S | Skip>>>>,
): void {
  assert.equal(new Set(order).size, order.length, 'the order names each stage once')
  for (const [transport, row] of Object.entries(rows)) {
    assert.deepEqual(Object.keys(row).sort(), [...order].sort(), transport)
    for (const id of order) {
      const s = row[id]
      if (isSkip(s)) assert.ok(s.skip.length > 20, `${transport}.${id}: a skip says why`)
      else assert.equal(s.id, id, `${transport}.${id} holds the stage of that id`)
    }
    const ids = rowStages(order, row).map((s) => s.id)
    assert.deepEqual(ids, order.filter((id) => ids.includes(id)), `${transport}: stages run in the one order`)
  }
}
