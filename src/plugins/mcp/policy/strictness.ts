/** Action strictness (spec mcp.md §8.3): "" < warn < ask < redirect < block; unknown ranks as block (fail closed). */
const RANK: Readonly<Record<string, number>> = {'': 0, warn: 1, ask: 2, redirect: 3, block: 4}

export function actionRank(action: string): number {
  return RANK[action] ?? 4
}

/** The stricter of two actions (the first on a tie). An unknown action is normalised to `block`. */
export function stricter(a: string, b: string): string {
  const ra = actionRank(a)
  const rb = actionRank(b)
  const win = rb > ra ? b : a
  return RANK[win] === undefined ? 'block' : win
}
