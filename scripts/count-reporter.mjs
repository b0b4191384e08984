// node:test reporter that counts finished tests (suites excluded) and writes one JSON line of
// totals when the run ends; scripts/run-tests.mjs reads it to print the final count line.
export default async function* countReporter(source) {
  const counts = {passed: 0, failed: 0, skipped: 0, todo: 0, skippedNames: []}
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    const data = event.data
    if (data.details?.type === 'suite') continue
    if (data.skip !== undefined && data.skip !== false) {
      counts.skipped++
      counts.skippedNames.push(`${data.name}${typeof data.skip === 'string' ? ` (${data.skip})` : ''}`)
    } else if (data.todo !== undefined && data.todo !== false) counts.todo++
    else if (event.type === 'test:pass') counts.passed++
    else counts.failed++
  }
  yield `${JSON.stringify(counts)}\n`
}
