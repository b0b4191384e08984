// RFC 9110 §5.6.2 `token` — one or more tchar — as header names and methods are spelt: the one
// test of the config's header-name lists, `mcp proxy --header` and the contract gate's
// method-override reader.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Whether `s` is an RFC 9110 token (a header name, a method). */
export function isHttpToken(s: string): boolean {
  return TOKEN.test(s)
}
