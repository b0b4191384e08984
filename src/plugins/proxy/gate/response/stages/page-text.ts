/**
 * Response stage `page_text` (/fetch only): the agent gets the page's text, not its markup, so the
 * injection scan reads that text; the markup is kept for the hidden-content stage. A page over
 * 64 KiB is read on the scan pool (docs/scanner.md, "Large bodies").
 */
import type {ExtractedPage} from '../../../text-extract.js'
import type {ResponseStage} from '../context.js'

export const pageTextStage: ResponseStage = {
  id: 'page_text',
  run(ctx) {
    const text = ctx.body.toString('utf8')
    if (!/html/i.test(ctx.mediaType)) {
      ctx.page = {title: '', content: text, markup: ''}
      return false
    }
    const kept = (page: ExtractedPage): false => {
      ctx.page = {title: page.title, content: page.content, markup: text}
      return false
    }
    const page = ctx.snap.bodyScans.pageText(text)
    return page instanceof Promise ? page.then(kept) : kept(page)
  },
}
