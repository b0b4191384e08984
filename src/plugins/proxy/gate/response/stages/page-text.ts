/**
 * Response stage `page_text` (/fetch only): the agent gets the page's text, not its markup, so the
 * injection scan reads that text; the markup is kept for the hidden-content stage.
 */
import {extractHtmlText} from '../../../text-extract.js'
import type {ResponseStage} from '../context.js'

export const pageTextStage: ResponseStage = {
  id: 'page_text',
  run(ctx) {
    const text = ctx.body.toString('utf8')
    const isHtml = /html/i.test(ctx.mediaType)
    const page = isHtml ? extractHtmlText(text) : {title: '', content: text}
    ctx.page = {title: page.title, content: page.content, markup: isHtml ? text : ''}
    return false
  },
}
