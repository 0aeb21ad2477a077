import type { DialectName } from '../../dialects/dialect.js'
import type { BackupEngine } from '../engine.js'

/** One backup engine per dialect, each imported only when a command needs it. */
const LOADERS: Readonly<Record<DialectName, () => Promise<BackupEngine>>> = {
  sqlite: async () => (await import('./sqlite-backup.js')).sqliteBackup,
  postgres: async () => (await import('./postgres-backup.js')).postgresBackup,
  mysql: async () => (await import('./mysql-backup.js')).mysqlBackup,
}

export function loadBackupEngine(dialect: DialectName): Promise<BackupEngine> {
  return LOADERS[dialect]()
}
