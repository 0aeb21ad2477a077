import type { LintRule } from '../rule.js'

/**
 * `unparsed` (info): the lint parser cannot read a statement, so no other rule checks it. Lint
 * never refuses SQL the engine accepts; the finding says what was not checked. Reported by the
 * linter itself for steps without facts, so the rule has no check of its own.
 */
export const unparsed: LintRule = {
  id: 'unparsed',
  severity: 'info',
  description: 'the lint parser cannot read the statement (nothing else is checked on it)',
}
