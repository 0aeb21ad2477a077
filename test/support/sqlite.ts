import Database from 'better-sqlite3'

/** Reads a SQLite file directly (not through strata): the outcome a user would see. */
export function openDb(path: string): Database.Database {
  return new Database(path, { readonly: true, fileMustExist: true })
}

export function columns(path: string, table: string): string[] {
  const db = openDb(path)
  try {
    return (db.prepare(`PRAGMA table_info(${JSON.stringify(table)})`).all() as Array<{ name: string }>).map((c) => c.name)
  } finally {
    db.close()
  }
}

export function indexes(path: string, table: string): string[] {
  const db = openDb(path)
  try {
    return (db.prepare(`PRAGMA index_list(${JSON.stringify(table)})`).all() as Array<{ name: string }>).map((c) => c.name).sort()
  } finally {
    db.close()
  }
}

export function rows<T = Record<string, unknown>>(path: string, sql: string, params: unknown[] = []): T[] {
  const db = openDb(path)
  try {
    return db.prepare(sql).all(...params) as T[]
  } finally {
    db.close()
  }
}

/** Every user object's definition and every user table's rows, strata's own tables excluded. */
export function dumpUserData(path: string): string {
  const db = openDb(path)
  try {
    const objects = db.prepare(`SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'strata_%' AND name NOT LIKE 'sqlite_%' ORDER BY type, name`).all() as Array<{ type: string; name: string }>
    const data = objects.filter((o) => o.type === 'table').map((t) => ({ table: t.name, rows: db.prepare(`SELECT * FROM "${t.name}" ORDER BY rowid`).all() }))
    return JSON.stringify({ objects, data }, null, 1)
  } finally {
    db.close()
  }
}
