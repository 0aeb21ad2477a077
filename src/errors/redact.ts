/**
 * Masks credentials in URLs and connection strings before anything is printed,
 * logged or recorded (SPEC S16).
 */
export function redact(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/\s]+)@/gi, '$1****@')
    .replace(/\b(password|passwd|pwd)=([^&\s;]+)/gi, '$1=****')
}
