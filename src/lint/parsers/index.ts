import { createRequire } from 'node:module'
import type { DatabaseUrl } from '../../dialects/dialect.js'
import type { Fact } from '../types.js'
import { get, list } from './ast.js'
import { postgresFacts } from './postgres-facts.js'
import { sqlParserFacts } from './sql-parser-facts.js'
import { withParseCache } from './parse-cache.js'

/** Which grammar reads the SQL: MariaDB has its own in node-sql-parser. */
export type ParserFlavor = 'sqlite' | 'postgres' | 'mysql' | 'mariadb'

/** What a parser made of one statement (or one `op.execute` text, which may hold several). */
export type ParseResult = { readonly facts: readonly Fact[] } | { readonly error: string }

/** An engine's real SQL parser, reduced to lint facts (SPEC S6: never regular expressions). */
export interface SqlParser {
  /** How messages name it: `the PostgreSQL parser`. */
  readonly name: string
  parse(sql: string): ParseResult
  /** Persists what was parsed (the on-disk cache); lint calls it once, at the end. */
  flush?(): void
}

/** The grammar for a database URL: `mariadb://` reads MariaDB's, other MySQL URLs MySQL's. */
export function parserFlavor(url: DatabaseUrl): ParserFlavor {
  if (url.dialect === 'mysql') return /^mariadb:/i.test(url.raw) ? 'mariadb' : 'mysql'
  return url.dialect
}

/**
 * Loads the parser for `flavor`, and only that one: libpg-query (PostgreSQL's own parser,
 * compiled to WASM) for PostgreSQL; node-sql-parser's single-dialect build for the others.
 * Imported here, lazily, so no other command pays for them.
 */
export async function loadSqlParser(flavor: ParserFlavor): Promise<SqlParser> {
  return withParseCache(await loadGrammar(flavor), flavor)
}

async function loadGrammar(flavor: ParserFlavor): Promise<SqlParser> {
  if (flavor === 'postgres') return postgresParser()
  const require = createRequire(import.meta.url)
  const load = (build: 'sqlite' | 'mysql' | 'mariadb'): SqlParserModule => require(`node-sql-parser/build/${build}`) as SqlParserModule
  if (flavor === 'sqlite') return sqlParser('the SQLite parser', () => [[load('sqlite'), 'sqlite']])
  if (flavor === 'mysql') return sqlParser('the MySQL parser', () => [[load('mysql'), 'MySQL']])
  // node-sql-parser's MariaDB grammar lags its MySQL one (it reads no ADD CONSTRAINT … FOREIGN
  // KEY, for one): MariaDB accepts MySQL's DDL, so a statement it cannot read gets MySQL's.
  return sqlParser('the MariaDB parser', () => [[load('mariadb'), 'MariaDB'], [load('mysql'), 'MySQL']])
}

async function postgresParser(): Promise<SqlParser> {
  const pg = (await import('libpg-query')) as unknown as LibPgQuery
  await pg.loadModule()
  return {
    name: 'the PostgreSQL parser',
    parse(sql) {
      try {
        const statements = list(get(pg.parseSync(sql), 'stmts'))
        return { facts: statements.flatMap((s) => postgresFacts(get(s, 'stmt'))) }
      } catch (error) {
        return { error: firstLine(error) }
      }
    },
  }
}

/** A node-sql-parser grammar, loaded at the first statement the parse cache does not know. */
function sqlParser(name: string, grammars: () => ReadonlyArray<readonly [SqlParserModule, string]>): SqlParser {
  let parsers: ReadonlyArray<readonly [{ astify(sql: string, options: { database: string }): unknown }, string]> | undefined
  return {
    name,
    parse(sql) {
      parsers ??= grammars().map(([module, database]) => [new module.Parser(), database] as const)
      let first: string | undefined
      for (const [parser, database] of parsers) {
        try {
          const ast = parser.astify(sql, { database })
          return { facts: (Array.isArray(ast) ? ast : [ast]).flatMap(sqlParserFacts) }
        } catch (error) {
          first ??= grammarError(error)
        }
      }
      return { error: first ?? 'unreadable' }
    },
  }
}

/** The parts of libpg-query lint uses (structural, STYLE kysely 6). */
interface LibPgQuery {
  loadModule(): Promise<void>
  parseSync(sql: string): unknown
}

/** The parts of a node-sql-parser build lint uses. */
interface SqlParserModule {
  readonly Parser: new () => { astify(sql: string, options: { database: string }): unknown }
}

/** node-sql-parser's errors list every token it expected: say only what it found, and where. */
function grammarError(error: unknown): string {
  const { found, location } = error as { found?: unknown; location?: { start?: { line?: number; column?: number } } }
  const at = location?.start?.line !== undefined ? ` at line ${location.start.line}, column ${location.start.column ?? 1} of the statement` : ''
  if (typeof found === 'string') return `syntax error at or near "${found}"${at}`
  if (found === null) return `unexpected end of statement${at}`
  return firstLine(error)
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return (message.split('\n')[0] ?? message).slice(0, 200)
}
