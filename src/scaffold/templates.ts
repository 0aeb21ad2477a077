/** Files written by `strata init` and `strata new`. */

export function configTemplate(databaseFile: string): string {
  const url = JSON.stringify(`sqlite:${databaseFile.replace(/^sqlite:/, '')}`)
  return `# strata configuration. Relative paths resolve from this file's folder.
# Full reference: the README's "Configuration" section.

migrations: migrations          # folder of migration files (.ts, .js, .sql, .up.sql/.down.sql)
environment: development        # used when neither --env nor STRATA_ENV is given
table_prefix: strata_           # strata's own tables: strata_history, strata_log, strata_runs

environments:
  development:
    url: ${url}

  # An example of a guarded environment; \${VAR} comes from the process environment and is
  # expanded only when this environment is selected.
  production:
    url: \${DATABASE_URL}
    policy:
      require_backup: true
      require_change_request: true
      lint_fail_on: warning
      on_failure: rollback        # rollback | stop | restore
      confirm: true

# checks:
#   postflight:
#     - { name: no-null-events, sql: "SELECT count(*) FROM graphics WHERE event_name IS NULL", expect: 0 }
`
}

export function moduleTemplate(description: string, downRevision: string | null): string {
  const parent = downRevision === null ? 'null' : `'${downRevision}'`
  return `import { migration } from 'strata-migrate'

export default migration({
  downRevision: ${parent},
  description: ${JSON.stringify(description)},

  async up(op) {
    // op.addColumn('table', { name: 'column', type: 'text', nullable: true })
  },

  async down(op) {
    // op.dropColumn('table', 'column')
  },
})
`
}

export function sqlTemplate(description: string, downRevision: string | null): string {
  return `-- strata:down-revision ${downRevision ?? 'none'}
-- strata:description ${description}

-- strata:up


-- strata:down

`
}
