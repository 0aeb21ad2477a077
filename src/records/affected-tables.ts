import { tablesInSql } from '../checks/affected.js'
import type { Direction } from '../events/events.js'
import type { MigrationDef } from '../loader/migration.js'
import type { Project } from '../pipeline/session.js'
import type { Fact } from '../lint/types.js'

/** One step of a run, as far as the tables it changes are concerned. */
export interface AffectedStep {
  readonly migration: MigrationDef
  readonly direction: Direction
}

/**
 * The tables a run's steps create, alter, drop or write (SPEC S9): read from the ops a module
 * records and from its SQL through the engine's own parser (the facts lint works with), never
 * guessed from file names. A statement the parser cannot read is scanned by strata's SQL lexer
 * (strings and comments never count). Per migration checksum and direction the answer is kept
 * in the parse cache, so a run whose migrations were linted before does not load the parser.
 */
export async function affectedTables(project: Project, steps: readonly AffectedStep[]): Promise<string[]> {
  if (steps.length === 0) return []
  const lint = await import('../lint/index.js')
  const flavor = lint.parserFlavor(project.config.url)
  const cache = lint.keyedCache<string[]>(`affected-${flavor}`, process.env, 2_000)
  let parser: Awaited<ReturnType<typeof lint.loadSqlParser>> | null = null
  const tables = new Set<string>()
  for (const { migration, direction } of steps) {
    const key = `${migration.revision}\0${direction}\0${migration.file.checksum}`
    let found = cache?.get(key)
    if (!found) {
      parser ??= await lint.loadSqlParser(flavor)
      const collected = await lint.collectSteps(migration, direction, { dialect: project.dialect.name, parser, cwd: process.cwd() }).catch(() => [])
      const names = new Set<string>()
      for (const step of collected) for (const fact of step.facts ?? []) for (const name of tablesOfFact(fact)) names.add(name)
      // A statement the parser could not read: the lexer's reading of the file's SQL instead.
      const statements = direction === 'up' ? migration.sql?.up : migration.sql?.down
      if (collected.some((step) => step.facts === null)) {
        for (const statement of statements ?? []) for (const name of tablesInSql(statement.sql, project.dialect.name).tables) names.add(name)
      }
      found = [...names]
      cache?.set(key, found)
    }
    for (const name of found) tables.add(name)
  }
  parser?.flush?.()
  cache?.flush()
  const prefix = project.config.tablePrefix.toLowerCase()
  return [...tables].filter((t) => !t.toLowerCase().startsWith(prefix)).sort()
}

function tablesOfFact(fact: Fact): string[] {
  switch (fact.kind) {
    case 'renameTable':
      return [fact.from, fact.to]
    case 'dropIndex':
    case 'data':
      return fact.table === null ? [] : [fact.table]
    case 'ddl':
    case 'other':
      return []
    default:
      return [fact.table]
  }
}
