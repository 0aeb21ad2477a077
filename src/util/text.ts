/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]!
}

/**
 * The candidate closest to `word` when it is a likely typo: within a small edit distance, else
 * one that starts with it (`prod` for `production`).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase()
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const d = editDistance(lower, candidate.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3))) return best
  return lower.length >= 3 ? candidates.find((c) => c.toLowerCase().startsWith(lower)) : undefined
}

/** A byte count as mebibytes: `12.5 MiB`. */
export function mib(bytes: number, digits = 1): string {
  return `${(bytes / 1048576).toFixed(digits)} MiB`
}
