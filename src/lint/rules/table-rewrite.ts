import { q, sqliteRebuiltTable, type LintRule } from '../rule.js'

/**
 * `table-rewrite` (warning): a change that copies every row of an existing table while it is
 * locked — a column type change (PostgreSQL, MySQL), or on SQLite any op the compiler turns into
 * the table-rebuild procedure (alterColumn, constraint changes, dropping an indexed column, …).
 */
export const tableRewrite: LintRule = {
  id: 'table-rewrite',
  severity: 'warning',
  description: 'a type change or a rebuild rewrites an existing table',
  checkFact(fact, ctx) {
    const rebuilt = sqliteRebuiltTable(fact, ctx)
    if (rebuilt !== null) {
      if (!ctx.model.preExisting(rebuilt, ctx.scope)) return null
      const cause = fact.kind === 'rebuild' ? fact.cause : fact.kind === 'dropColumn' ? `dropColumn ${q(fact.column)}, which an index, key or foreign key uses` : fact.kind
      return {
        key: `rebuild:${rebuilt.toLowerCase()}`,
        message: `rebuilds table ${q(rebuilt)} for ${cause}: SQLite copies every row into a new table while writers wait, so it takes as long as the table is large; time it on a copy of production data first`,
      }
    }
    if (fact.kind !== 'alterColumn' || fact.type === null || !ctx.capabilities.alterColumnInPlace) return null
    if (!ctx.model.preExisting(fact.table, ctx.scope)) return null
    if (fact.restated) {
      // MODIFY / CHANGE restate the type: only a different one rewrites.
      const known = ctx.model.columnType(fact.table, fact.column)
      if (known !== null && sameType(known, fact.type)) return null
    }
    const how = ctx.dialect === 'postgres'
      ? 'PostgreSQL rewrites the table and its indexes under an ACCESS EXCLUSIVE lock (unless the types are binary-compatible)'
      : 'MySQL copies the table (ALGORITHM=COPY) while writes wait'
    return {
      message: `changes the type of ${q(`${fact.table}.${fact.column}`)} to ${fact.type}: ${how}; for a large table add a column of the new type, backfill it, and switch over`,
    }
  },
}

/** Type names compared loosely: case, spaces and MySQL's own aliases (`integer` is `int`). */
function sameType(a: string, b: string): boolean {
  return normal(a) === normal(b)
}

const ALIASES: Readonly<Record<string, string>> = { integer: 'int', bool: 'tinyint(1)', boolean: 'tinyint(1)', 'character varying': 'varchar' }

function normal(type: string): string {
  const compact = type.toLowerCase().replace(/\s+/g, ' ').replace(/\s*([(),])\s*/g, '$1').trim()
  const base = compact.replace(/\(.*$/, '')
  const alias = ALIASES[base]
  return alias === undefined ? compact : alias.includes('(') ? alias : `${alias}${compact.slice(base.length)}`
}
