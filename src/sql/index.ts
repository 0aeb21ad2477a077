export { splitStatements, hasStatements, type SplitStatement, type SplitOptions } from './split.js'
export {
  parseSqlMigration,
  parseSqlPair,
  type ParsedSqlMigration,
  type SqlMigrationHeaders,
} from './sql-file.js'
export { SqlLexer, type SqlTokenKind } from './lexer.js'
export { mapPlaceholders, countPlaceholders, inlineParams, openCommentAtEnd } from './placeholders.js'
