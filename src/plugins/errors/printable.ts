/**
 * Text that goes to a terminal: C0/C1 controls (escape sequences, CR, newlines) are shown as `?`,
 * so a value echoed in an error line, a session target or an error body from a server cannot
 * rewrite the operator's screen or forge a second line.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}
