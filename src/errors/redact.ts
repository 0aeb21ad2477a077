/**
 * Masks credentials in URLs and connection strings before anything is printed,
 * logged or recorded (SPEC S16).
 */
export function redact(text: string): string {
  // Both patterns need one of these: most lines have neither, and skip the regular expressions.
  if (!text.includes('@') && !text.includes('=')) return text
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/\s]+)@/gi, '$1****@')
    .replace(/\b(password|passwd|pwd)=([^&\s;]+)/gi, '$1=****')
}
