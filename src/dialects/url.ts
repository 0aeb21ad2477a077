import { isAbsolute, resolve } from 'node:path'
import { StrataError, redact } from '../errors/index.js'
import type { DatabaseUrl, DialectName } from './dialect.js'

const SCHEMES: Readonly<Record<string, DialectName>> = {
  sqlite: 'sqlite',
  sqlite3: 'sqlite',
  postgres: 'postgres',
  postgresql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
}

/**
 * Parses a database URL (SPEC S12): `sqlite:PATH` (or a bare path ending .db/.sqlite/.sqlite3),
 * `postgres://…`, `mysql://…` / `mariadb://…`. A relative SQLite path resolves from `baseDir`
 * (the config file's folder, else the working directory).
 */
export function parseDatabaseUrl(raw: string, baseDir: string = process.cwd()): DatabaseUrl {
  const text = raw.trim()
  if (text === '') throw badUrl(raw, 'the database URL is empty')
  if (/\.(db|sqlite3?)$/i.test(text) && !/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    return sqliteUrl(raw, text, baseDir)
  }
  const match = /^([a-z][a-z0-9+.-]*):(.*)$/i.exec(text)
  const dialect = match ? SCHEMES[match[1]!.toLowerCase()] : undefined
  if (!match || !dialect) {
    throw badUrl(raw, `cannot tell the database from URL \`${redact(text)}\``)
  }
  if (dialect === 'sqlite') {
    // sqlite:relative.db, sqlite:/abs.db, sqlite:///abs.db, sqlite://relative.db
    const rest = match[2]!.replace(/^\/\/(?=\/)/, '').replace(/^\/\//, '')
    return sqliteUrl(raw, rest, baseDir)
  }
  try {
    new URL(text)
  } catch {
    throw badUrl(raw, `\`${redact(text)}\` is not a valid ${dialect} URL`)
  }
  return { dialect, raw: text, redacted: redact(text) }
}

function sqliteUrl(raw: string, pathText: string, baseDir: string): DatabaseUrl {
  const path = decodeURIComponent(pathText.split('?')[0]!)
  if (path === '') throw badUrl(raw, 'the SQLite URL names no file')
  const absolute = path === ':memory:' ? path : isAbsolute(path) ? path : resolve(baseDir, path)
  return { dialect: 'sqlite', raw: raw.trim(), redacted: `sqlite:${absolute}`, path: absolute }
}

function badUrl(raw: string, message: string): StrataError {
  return new StrataError('E_CONFIG', message, {
    hint: 'use sqlite:PATH, postgres://user@host/db or mysql://user@host/db',
    url: redact(raw),
  })
}
