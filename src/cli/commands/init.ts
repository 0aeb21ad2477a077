import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { StrataError } from '../../errors/index.js'
import { configTemplate } from '../../scaffold/templates.js'
import { globals } from '../context.js'
import { out } from '../output.js'

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a commented strata.yaml and an empty migrations/ folder')
    .option('--database <file>', 'SQLite file of the development environment', 'app.db')
    .option('--force', 'overwrite an existing config file')
    .action(async (local: { database: string; force?: boolean }, command: Command) => {
      const options = globals(command)
      const configPath = resolve(options.config ?? 'strata.yaml')
      if (existsSync(configPath) && !local.force) {
        throw new StrataError('E_USAGE', `${configPath} already exists`, { hint: 'edit it, or pass --force to overwrite it' })
      }
      const migrations = resolve(configPath, '..', 'migrations')
      writeFileSync(configPath, configTemplate(local.database))
      mkdirSync(migrations, { recursive: true })
      if (options.json) return out.json({ ok: true, config: configPath, migrations })
      out.info(`wrote ${configPath}\ncreated ${migrations}/\nnext: strata new "create users table"`)
    })
}
