/**
 * `strata lint` as a library (SPEC S6): `lintMigrations(project, { revisions?, direction? })`
 * returns the findings; `findingsAtOrAbove(findings, level)` those that reach a `--fail-on` /
 * policy `lint_fail_on` level. Loaded lazily: it brings the SQL parsers with it.
 */
export { lintMigrations, type LintOptions } from './lint.js'
export { RULES, RULE_IDS } from './rules/index.js'
export type { LintRule } from './rule.js'
export {
  SEVERITY_RANK,
  findingsAtOrAbove,
  type LintDirection,
  type LintFinding,
  type LintSeverity,
  type RuleSetting,
} from './types.js'
// The pieces `records` reuses to read the tables a migration changes (SPEC S9).
export { collectSteps } from './collect.js'
export { loadSqlParser, parserFlavor } from './parsers/index.js'
export { keyedCache } from './parsers/parse-cache.js'
