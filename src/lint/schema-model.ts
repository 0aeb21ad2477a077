import type { Anchor, ColumnFact, Fact, ForeignKeyFact } from './types.js'

/**
 * A virtual schema built by replaying the facts of every migration in graph order, as pgroll
 * validates operations against an in-memory schema: rules ask it which tables existed before
 * a migration, which indexes lead with which columns and which foreign keys cascade. Names are
 * compared case-insensitively; what lint cannot read (unparsed statements, tables created
 * outside strata) is simply unknown, and an unknown table counts as pre-existing.
 */
export class SchemaModel {
  readonly #tables = new Map<string, ModelTable>()
  /** Foreign keys by the body that added them, so a body's own keys are found without a scan. */
  readonly #addedIn = new Map<string, ModelForeignKey[]>()

  /** The table named `name`, if the replay knows it. */
  table(name: string): ModelTable | undefined {
    return this.#tables.get(key(name))
  }

  /** Every table the replay knows, in the order they were first seen. */
  tables(): IterableIterator<ModelTable> {
    return this.#tables.values()
  }

  /** The declared type of `table.column` when the replay knows it, else null. */
  columnType(table: string, column: string): string | null {
    return this.table(table)?.columns.get(key(column))?.type ?? null
  }

  /**
   * Whether `name` exists before the migration body `scope` (a table lint does not know counts:
   * it was created outside strata or by a statement lint could not read).
   */
  preExisting(name: string, scope: string): boolean {
    return this.table(name)?.createdIn !== scope
  }

  /** The foreign keys the body `scope` added that still exist, with their tables. */
  foreignKeysAddedIn(scope: string): Array<{ readonly table: ModelTable; readonly foreignKey: ModelForeignKey }> {
    const found: Array<{ table: ModelTable; foreignKey: ModelForeignKey }> = []
    for (const fk of this.#addedIn.get(scope) ?? []) {
      for (const table of this.#tables.values()) {
        if (table.foreignKeys.includes(fk)) {
          found.push({ table, foreignKey: fk })
          break
        }
      }
    }
    return found
  }

  /** The foreign keys (of any table) that reference `table` with ON DELETE CASCADE. */
  cascadeChildren(table: string): Array<{ readonly table: string; readonly foreignKey: ModelForeignKey }> {
    const found: Array<{ table: string; foreignKey: ModelForeignKey }> = []
    for (const child of this.#tables.values()) {
      for (const fk of child.foreignKeys) {
        if (key(fk.refTable) === key(table) && fk.onDelete === 'cascade') found.push({ table: child.name, foreignKey: fk })
      }
    }
    return found
  }

  /** Whether some index of `table` (primary key, unique, CREATE INDEX) starts with all of `columns`, in any order. */
  indexLeadsWith(table: string, columns: readonly string[]): boolean {
    const wanted = new Set(columns.map(key))
    return (this.table(table)?.indexes ?? []).some((index) => {
      const lead = index.columns.slice(0, wanted.size).map(key)
      return lead.length === wanted.size && lead.every((c) => wanted.has(c))
    })
  }

  /** Whether `column` is part of a key, index or foreign key of `table` (SQLite cannot drop it in place). */
  columnIsKeyed(table: string, column: string): boolean {
    const t = this.table(table)
    if (!t) return false
    const c = key(column)
    return t.indexes.some((i) => i.columns.some((n) => key(n) === c)) || t.foreignKeys.some((fk) => fk.columns.some((n) => key(n) === c))
  }

  /** A deep copy, for linting a down against the schema its up left without changing the replay. */
  clone(): SchemaModel {
    const copy = new SchemaModel()
    const copies = new Map<ModelForeignKey, ModelForeignKey>()
    for (const [name, t] of this.#tables) {
      copy.#tables.set(name, {
        name: t.name,
        createdIn: t.createdIn,
        columns: new Map([...t.columns].map(([k, c]) => [k, { ...c }])),
        indexes: t.indexes.map((i) => ({ ...i, columns: [...i.columns] })),
        foreignKeys: t.foreignKeys.map((fk) => {
          const made = { ...fk, columns: [...fk.columns] }
          copies.set(fk, made)
          return made
        }),
      })
    }
    for (const [scope, list] of this.#addedIn) copy.#addedIn.set(scope, list.flatMap((fk) => copies.get(fk) ?? []))
    return copy
  }

  /** Applies one fact done in the migration body `scope`, at `anchor`. */
  apply(fact: Fact, scope: string, anchor: Anchor): void {
    switch (fact.kind) {
      case 'createTable': {
        const table = this.#create(fact.table, scope)
        for (const column of fact.columns) this.#addColumn(table, column, scope, anchor)
        if (fact.primaryKey.length > 0) table.indexes.push({ name: null, columns: [...fact.primaryKey], unique: true })
        for (const index of fact.indexes) table.indexes.push({ ...index, columns: [...index.columns] })
        for (const fk of fact.foreignKeys) table.foreignKeys.push(this.#foreignKey(fk, scope, anchor))
        return
      }
      case 'dropTable':
        this.#tables.delete(key(fact.table))
        return
      case 'renameTable': {
        const table = this.#ensure(fact.from)
        this.#tables.delete(key(fact.from))
        table.name = fact.to
        this.#tables.set(key(fact.to), table)
        for (const other of this.#tables.values()) {
          for (const fk of other.foreignKeys) if (key(fk.refTable) === key(fact.from)) fk.refTable = fact.to
        }
        return
      }
      case 'addColumn':
        this.#addColumn(this.#ensure(fact.table), fact.column, scope, anchor)
        return
      case 'dropColumn': {
        const table = this.#ensure(fact.table)
        const c = key(fact.column)
        table.columns.delete(c)
        table.indexes = table.indexes.filter((i) => !i.columns.some((n) => key(n) === c))
        table.foreignKeys = table.foreignKeys.filter((fk) => !fk.columns.some((n) => key(n) === c))
        return
      }
      case 'renameColumn': {
        const table = this.#ensure(fact.table)
        const column = table.columns.get(key(fact.from))
        table.columns.delete(key(fact.from))
        table.columns.set(key(fact.to), { name: fact.to, type: column?.type ?? null, notNull: column?.notNull ?? false })
        const rename = (n: string): string => (key(n) === key(fact.from) ? fact.to : n)
        for (const index of table.indexes) index.columns = index.columns.map(rename)
        for (const fk of table.foreignKeys) fk.columns = fk.columns.map(rename)
        return
      }
      case 'alterColumn': {
        const table = this.#ensure(fact.table)
        const column = table.columns.get(key(fact.column)) ?? { name: fact.column, type: null, notNull: false }
        if (fact.type !== null) column.type = fact.type
        if (fact.notNull !== undefined) column.notNull = fact.notNull
        table.columns.set(key(fact.column), column)
        return
      }
      case 'createIndex':
        this.#ensure(fact.table).indexes.push({ name: fact.name, columns: [...fact.columns], unique: fact.unique })
        return
      case 'addKey':
        this.#ensure(fact.table).indexes.push({ ...fact.index, columns: [...fact.index.columns] })
        return
      case 'dropIndex':
      case 'dropConstraint':
        for (const table of this.#tables.values()) {
          if ('table' in fact && fact.table !== null && key(table.name) !== key(fact.table)) continue
          table.indexes = table.indexes.filter((i) => i.name === null || key(i.name) !== key(fact.name))
          table.foreignKeys = table.foreignKeys.filter((fk) => fk.name === null || key(fk.name) !== key(fact.name))
        }
        return
      case 'addForeignKey':
        this.#ensure(fact.table).foreignKeys.push(this.#foreignKey(fact.foreignKey, scope, anchor))
        return
      case 'addCheck':
      case 'rebuild':
      case 'data':
      case 'ddl':
      case 'other':
        return
    }
  }

  #create(name: string, scope: string): ModelTable {
    const table: ModelTable = { name, createdIn: scope, columns: new Map(), indexes: [], foreignKeys: [] }
    this.#tables.set(key(name), table)
    return table
  }

  /** A table lint has not seen created: it existed before (outside strata, or an unparsed statement). */
  #ensure(name: string): ModelTable {
    return this.table(name) ?? this.#create(name, PRE_EXISTING)
  }

  #addColumn(table: ModelTable, column: ColumnFact, scope: string, anchor: Anchor): void {
    table.columns.set(key(column.name), { name: column.name, type: column.type, notNull: column.notNull })
    if (column.primaryKey || column.unique) table.indexes.push({ name: null, columns: [column.name], unique: true })
    if (column.references) table.foreignKeys.push(this.#foreignKey({ ...column.references, columns: [column.name] }, scope, anchor))
  }

  #foreignKey(fk: ForeignKeyFact, scope: string, anchor: Anchor): ModelForeignKey {
    const made = foreignKey(fk, scope, anchor)
    const list = this.#addedIn.get(scope)
    if (list) list.push(made)
    else this.#addedIn.set(scope, [made])
    return made
  }
}

export interface ModelColumn {
  name: string
  type: string | null
  notNull: boolean
}

export interface ModelForeignKey {
  readonly name: string | null
  columns: string[]
  refTable: string
  readonly onDelete: string | null
  /** The migration body that added it, and where: `fk-without-index` reports it there. */
  readonly scope: string
  readonly anchor: Anchor
}

export interface ModelTable {
  name: string
  /** The migration body that created it; `PRE_EXISTING` for a table lint never saw created. */
  readonly createdIn: string
  readonly columns: Map<string, ModelColumn>
  indexes: Array<{ readonly name: string | null; columns: string[]; readonly unique: boolean }>
  foreignKeys: ModelForeignKey[]
}

const PRE_EXISTING = '(pre-existing)'

function foreignKey(fk: ForeignKeyFact, scope: string, anchor: Anchor): ModelForeignKey {
  return { name: fk.name, columns: [...fk.columns], refTable: fk.refTable, onDelete: fk.onDelete, scope, anchor }
}

function key(name: string): string {
  return name.toLowerCase()
}
