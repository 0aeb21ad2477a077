import { StrataError } from '../errors/index.js'
import { REPLAY, createOpBuilder, type OpBuilder } from '../ops/op-builder.js'
import type { Operation } from '../ops/operation.js'
import { reverse } from '../ops/reverse.js'

/** Where a recorded body comes from, for messages: the file and the hook (`change()`, `expand()`). */
export interface BodySource {
  readonly dialect: string
  readonly shown: string
  readonly file: string
  readonly hook: string
  /** The hint when an op has no reverse. */
  readonly hint: string
}

/** The reverse of each op a body records, newest first, with the index of the op it undoes. */
export interface Reversal {
  /** The ops the body records, in order (their index is the op index the runner gives them). */
  readonly recorded: readonly Operation[]
  readonly reversed: ReadonlyArray<{ readonly index: number; readonly op: Operation }>
  /** A body replaying the reverses whose original index `keep` accepts (default: all). */
  replay(keep?: (index: number) => boolean): (op: OpBuilder) => void
}

/**
 * Records a body's ops without a database and reverses them, newest first (SPEC S3 `change`,
 * S7 `abort`). An irreversible op is E_IRREVERSIBLE and a read (`op.query`) E_MIGRATION_FILE,
 * both naming the file and the hook.
 */
export async function reverseBody(body: (op: OpBuilder) => unknown, source: BodySource): Promise<Reversal> {
  const recorded: Operation[] = []
  const op = createOpBuilder({
    dialect: source.dialect,
    push: (o) => void recorded.push(o),
    query: async () => {
      throw new StrataError('E_MIGRATION_FILE', `migration ${source.shown}: ${source.hook} cannot read the database (op.query) when its reverse is derived`, {
        file: source.file,
        hint: source.hint,
      })
    },
  })
  await body(op)
  const reversed: Array<{ index: number; op: Operation }> = []
  for (let index = recorded.length - 1; index >= 0; index--) {
    const back = reverse(recorded[index]!)
    if ('irreversible' in back) {
      throw new StrataError('E_IRREVERSIBLE', `migration ${source.shown}: ${source.hook} uses an irreversible op: ${back.reason}`, {
        file: source.file,
        hint: source.hint,
      })
    }
    reversed.push({ index, op: back })
  }
  return {
    recorded,
    reversed,
    replay: (keep = () => true) => (target: OpBuilder) => {
      const sink = target as OpBuilder & { readonly [REPLAY]?: (op: Operation) => void }
      const replay = sink[REPLAY]
      if (!replay) throw new Error(`the derived reverse of ${source.hook} needs a strata op builder`)
      for (const r of reversed) if (keep(r.index)) replay(r.op)
    },
  }
}

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
  const reversal = await reverseBody(change, { dialect, shown, file, hook: 'change()', hint: 'write explicit up() and down() for this migration' })
  return reversal.replay()
}
