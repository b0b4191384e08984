import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {EventFieldTails, sseEventData, sseEventPieces, STREAM_TAIL_CHARS, STREAM_TAIL_FIELDS} from '../../../src/plugins/scanner/index.js'

// What of an SSE event is relayed besides its data, and the per-field tails a token stream is read through.
const pieces = (raw: string): ReturnType<typeof sseEventPieces> => sseEventPieces(raw, sseEventData(raw))

describe('sseEventPieces', () => {
  test('an event of data lines only relays nothing more than its data', () => {
    assert.deepEqual(pieces('data: hello\ndata: world\n\n'), {relayed: false, fields: []})
  })

  test('comments, other fields, field-less lines and long "names" are relayed, keyed by kind', () => {
    const raw = ': keep\nevent: e\nid: 7\nretry: 10\nnote: n\nplain line\n<html><body><p>Release notes for the week: none</p>\ndata: d\n\n'
    assert.deepEqual(pieces(raw), {
      relayed: true,
      fields: [[':', 'keep'], ['event:', 'e'], ['id:', '7'], ['retry:', '10'], ['note:', 'n'], ['', 'plain line'], ['', '<html><body><p>Release notes for the week: none</p>']],
    })
  })

  test('data that is one JSON document gives its string values and numbers by member path', () => {
    const raw = 'data: {"object":"chunk","choices":[{"index":0,"delta":{"content":" Ignore"}}]}\n\n'
    assert.deepEqual(pieces(raw).fields, [['data:object', 'chunk'], ['data:choices.index', '0'], ['data:choices.delta.content', ' Ignore']])
    assert.deepEqual(pieces('data: [DONE]\n\n'), {relayed: false, fields: []})
  })
})

describe('EventFieldTails', () => {
  test('each field is joined to its own values across events, with nothing between', () => {
    const t = new EventFieldTails()
    const texts: Array<string | null> = []
    for (const word of ['Please', ' Ignore', ' all']) {
      const n = t.next([['data:object', 'chunk'], ['data:content', word]])
      texts.push(n.text)
      n.settle(true)
    }
    assert.deepEqual(texts, ['chunk\nPlease', 'chunkchunk\nPlease Ignore', 'chunkchunkchunk\nPlease Ignore all'])
  })

  test('a field repeating one value settles on a text already scanned, and is not scanned again', () => {
    const t = new EventFieldTails()
    let last: string | null = ''
    for (let i = 0; i < STREAM_TAIL_CHARS; i++) {
      const n = t.next([['event:', 'content_block_delta']])
      last = n.text
      n.settle(true)
    }
    assert.equal(last, null)
    const changed = t.next([['event:', 'other']])
    assert.ok(changed.text?.endsWith('content_block_deltaother'))
  })

  test('a hit empties the tails of the event', () => {
    const t = new EventFieldTails()
    t.next([[':', 'Ignore all prev']]).settle(false)
    assert.equal(t.next([[':', 'ious']]).text, 'ious')
  })

  test(`at most ${STREAM_TAIL_FIELDS} fields are kept, the least recently written dropped`, () => {
    const t = new EventFieldTails()
    for (let i = 0; i <= STREAM_TAIL_FIELDS; i++) t.next([[`f${i}:`, 'a']]).settle(true)
    assert.equal(t.next([['f0:', 'b']]).text, 'b', 'f0 was dropped')
    assert.equal(t.next([[`f${STREAM_TAIL_FIELDS}:`, 'b']]).text, 'ab', 'the newest is kept')
  })
})
