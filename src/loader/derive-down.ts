import { StrataError } from '../errors/index.js'
import { REPLAY, createOpBuilder, type OpBuilder } from '../ops/op-builder.js'
import type { Operation } from '../ops/operation.js'
import { reverse } from '../ops/reverse.js'

/**
 * Records a `change(op)` migration's ops and returns a `down` replaying their reverses, newest
 * first (SPEC S3). An irreversible op is an error at load time, naming it.
 */
export async function deriveDown(
  change: (op: OpBuilder) => unknown,
  dialect: string,
  shown: string,
  file: string,
): Promise<(op: OpBuilder) => void> {
  const recorded: Operation[] = []
  const op = createOpBuilder({
    dialect,
    push: (o) => void recorded.push(o),
    query: async () => {
      throw new StrataError('E_MIGRATION_FILE', `migration ${shown}: change() cannot read the database (op.query)`, {
        file,
        hint: 'use up() and down() for migrations that read data',
      })
    },
  })
  await change(op)
  const reversed: Operation[] = []
  for (const original of [...recorded].reverse()) {
    const back = reverse(original)
    if ('irreversible' in back) {
      throw new StrataError('E_IRREVERSIBLE', `migration ${shown}: change() uses an irreversible op: ${back.reason}`, {
        file,
        hint: 'write explicit up() and down() for this migration',
      })
    }
    reversed.push(back)
  }
  return (target: OpBuilder) => {
    const sink = target as OpBuilder & { readonly [REPLAY]?: (op: Operation) => void }
    const replay = sink[REPLAY]
    if (!replay) throw new Error('derived down() needs a strata op builder')
    for (const o of reversed) replay(o)
  }
}
