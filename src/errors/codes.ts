/** Exit codes of the CLI (SPEC S12). */
export type ExitCode = 0 | 1 | 2 | 3 | 4

/** Stable error codes (SPEC S13). Users and tools match on these strings. */
export const EXIT_CODE_OF = {
  E_USAGE: 2,
  E_CONFIG: 2,
  E_MIGRATION_FILE: 2,
  E_GRAPH_CYCLE: 2,
  E_GRAPH_MISSING_PARENT: 2,
  E_GRAPH_DUPLICATE: 2,
  E_AMBIGUOUS_REVISION: 2,
  E_MULTIPLE_HEADS: 2,
  E_UNKNOWN_REVISION: 2,
  E_IRREVERSIBLE: 2,
  E_OFFLINE: 2,
  E_CHECKSUM: 3,
  E_POLICY: 3,
  E_PREFLIGHT: 3,
  E_DIRTY: 3,
  E_LOCKED: 4,
  E_MIGRATION_FAILED: 1,
  E_VALIDATION: 1,
  E_BACKUP: 1,
  E_CONNECT: 1,
  E_INTERNAL: 1,
} as const satisfies Record<string, ExitCode>

export type ErrorCode = keyof typeof EXIT_CODE_OF

/** The hint shown when the thrower gave none. */
export const DEFAULT_HINT: Readonly<Record<ErrorCode, string>> = {
  E_USAGE: 'run `strata --help` for the commands and their options',
  E_CONFIG: 'check the config file against the keys listed in the README',
  E_MIGRATION_FILE: 'fix the migration file named above; nothing was run',
  E_GRAPH_CYCLE: 'make one of the revisions in the cycle point to an earlier parent',
  E_GRAPH_MISSING_PARENT: 'restore the missing migration or correct the parent id',
  E_GRAPH_DUPLICATE: 'give each migration a unique revision id',
  E_AMBIGUOUS_REVISION: 'give more characters of the revision id',
  E_MULTIPLE_HEADS: 'name one head, use `heads`, or add a merge migration',
  E_UNKNOWN_REVISION: 'run `strata history` to list the known revisions',
  E_IRREVERSIBLE: 'write an explicit down() for this migration',
  E_OFFLINE: 'run `strata plan` against a database instead of `--sql`',
  E_CHECKSUM: 'restore the original file, or run `strata repair` to accept the change',
  E_POLICY: 'satisfy the policy named above or use another environment',
  E_PREFLIGHT: 'fix the failing check and run again',
  E_DIRTY: 'inspect the statements listed above, then run `strata repair`',
  E_LOCKED: 'wait for the other run, or run `strata unlock` if its process is gone',
  E_MIGRATION_FAILED: 'fix the failing statement and run again',
  E_VALIDATION: 'inspect the failing validation above',
  E_BACKUP: 'check the backup directory and free disk space',
  E_CONNECT: 'check the database URL and that the server is running',
  E_INTERNAL: 'run again with --debug and report the stack trace',
}
