import type { ResolvedConfig } from '../config/load-config.js'
import { StrataError } from '../errors/index.js'
import { closest } from '../util/text.js'
import { RULES, RULE_IDS } from './rules/index.js'
import type { LintBodyName, LintSeverity, RuleSetting } from './types.js'

/** The level of each rule: its default, or config `lint: { rules: { ID: error|warning|info|off } }`. */
export type RuleSettings = ReadonlyMap<string, RuleSetting>

/**
 * Reads `lint.rules` from the config. The config schema checks the levels; an id that names no
 * rule is E_CONFIG naming the closest one (a typo would otherwise silently change nothing).
 */
export function ruleSettings(config: ResolvedConfig): RuleSettings {
  const settings = new Map<string, RuleSetting>(RULES.map((rule) => [rule.id, rule.severity]))
  for (const [id, level] of Object.entries(config.raw.lint?.rules ?? {})) {
    if (!RULE_IDS.includes(id)) {
      const suggestion = closest(id, RULE_IDS)
      throw new StrataError('E_CONFIG', `lint.rules names an unknown rule \`${id}\`${config.file ? ` in ${config.file}` : ''}`, {
        hint: suggestion ? `did you mean \`${suggestion}\`?` : `the rules are ${RULE_IDS.join(', ')}`,
        ...(config.file ? { file: config.file } : {}),
      })
    }
    settings.set(id, level)
  }
  return settings
}

/**
 * The severity a finding of `rule` is reported at, or null when the rule is off. Data-loss
 * rules report at `info` in a down (SPEC S6), whatever their level, unless they are off.
 */
export function severityOf(rule: string, settings: RuleSettings, body: LintBodyName): LintSeverity | null {
  const level = settings.get(rule) ?? 'off'
  if (level === 'off') return null
  // A down, an abort and a contract (SPEC S7: run once the application no longer reads what it
  // drops) exist to remove things: losing their data is what they are for.
  if (body !== 'up' && RULES.find((r) => r.id === rule)?.dataLoss) return 'info'
  return level
}
