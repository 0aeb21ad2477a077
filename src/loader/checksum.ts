import { createHash } from 'node:crypto'
import { StrataError } from '../errors/index.js'

/**
 * Version of the normalisation rule behind {@link checksum}. It is stored with every applied
 * checksum; a new rule gets a new version and old checksums keep being verified with theirs.
 */
export const CHECKSUM_VERSION = 1

/**
 * Normalisation rule 1: CRLF and lone CR become LF, and trailing spaces and tabs are removed
 * from every line. Nothing else changes (no BOM removal, no final-newline fix-up).
 */
export function normaliseText(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    let end = line.length
    while (end > 0) {
      const c = line.charCodeAt(end - 1)
      if (c !== 32 && c !== 9) break
      end--
    }
    if (end < line.length) lines[i] = line.slice(0, end)
  }
  return lines.join('\n')
}

/**
 * Lowercase hex sha256 of the normalised text, with the current rule ({@link CHECKSUM_VERSION}).
 * For several texts (an `.up.sql`/`.down.sql` pair: up first) each is normalised and they are
 * joined by a NUL byte, so moving text from one file to the other changes the checksum.
 */
export function checksum(text: string | readonly string[]): string {
  const parts = typeof text === 'string' ? [text] : text
  const hash = createHash('sha256')
  parts.forEach((part, index) => {
    if (index > 0) hash.update('\0')
    hash.update(normaliseText(part), 'utf8')
  })
  return hash.digest('hex')
}

/**
 * The checksum of `text` under normalisation rule `version`, to verify a checksum stored by an
 * earlier (or the current) strata. Throws `E_CHECKSUM` for a version this strata does not know.
 */
export function checksumFor(version: number, text: string | readonly string[]): string {
  switch (version) {
    case 1:
      return checksum(text)
    default:
      throw new StrataError(
        'E_CHECKSUM',
        `checksum version ${version} is unknown to this strata (it knows versions 1 to ${CHECKSUM_VERSION})`,
        {
          hint: 'the history was written by a newer strata: upgrade strata-migrate',
          checksumVersion: version,
        },
      )
  }
}
