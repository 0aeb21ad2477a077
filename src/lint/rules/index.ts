import type { LintRule } from '../rule.js'
import { blockingIndex } from './blocking-index.js'
import { ddlWithBackfill } from './ddl-with-backfill.js'
import { dropColumn } from './drop-column.js'
import { dropTable } from './drop-table.js'
import { fkWithoutIndex } from './fk-without-index.js'
import { irreversible } from './irreversible.js'
import { mysqlMixedDdlDml } from './mysql-mixed-ddl-dml.js'
import { notNullNoDefault } from './not-null-no-default.js'
import { renameBreaksApp } from './rename-breaks-app.js'
import { sqliteRebuildCascade } from './sqlite-rebuild-cascade.js'
import { tableRewrite } from './table-rewrite.js'
import { unparsed } from './unparsed.js'

/** Every rule, in the order of the SPEC S6 table (findings of one step are reported in this order). */
export const RULES: readonly LintRule[] = [
  dropTable,
  dropColumn,
  irreversible,
  tableRewrite,
  notNullNoDefault,
  blockingIndex,
  renameBreaksApp,
  ddlWithBackfill,
  fkWithoutIndex,
  mysqlMixedDdlDml,
  sqliteRebuildCascade,
  unparsed,
]

export const RULE_IDS: readonly string[] = RULES.map((rule) => rule.id)
