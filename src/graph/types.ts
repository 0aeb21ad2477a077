/**
 * One revision as the graph sees it: the graph fields of a loaded migration
 * (`MigrationDef` minus its code), so the graph stays pure and testable with
 * three-line fixtures (alembic `RevisionMap`).
 */
export interface RevisionNode {
  /** Unique id: `[A-Za-z0-9_.-]+`, never containing `..`; `head`, `heads` and `base` are reserved. */
  readonly revision: string
  /** Parent revision ids: `[]` = a root (a base), more than one = a merge point. */
  readonly downRevisions: readonly string[]
  /**
   * Revisions that must be applied before this one without being its parents
   * (cross-branch dependencies). Each entry is a revision id, a branch label
   * (meaning the revision that carries the label) or `X@head` (the head reached
   * from branch label or revision `X`, resolved when the graph is built).
   */
  readonly dependsOn: readonly string[]
  /** Names for the branch this revision starts; unique across revisions and ids. */
  readonly branchLabels: readonly string[]
  /** The file the revision comes from, shown in errors, e.g. `migrations/002_x.ts`. */
  readonly file?: string
}

/** Options of {@link RevisionGraph.ancestors}. */
export interface AncestorOptions {
  /** Also follow `dependsOn` edges (what `up` applies first). Default false. */
  readonly includeDependsOn?: boolean
}

/**
 * A validated revision graph (SPEC S2): pure values, no I/O. Every list of
 * revision ids it returns is frozen.
 *
 * `applied` arguments are the revisions the database has applied; ids the
 * graph does not know are ignored (the caller reports them, e.g. as vanished
 * files). Errors are `StrataError`s with codes `E_UNKNOWN_REVISION`,
 * `E_AMBIGUOUS_REVISION`, `E_MULTIPLE_HEADS` and `E_USAGE`, with structured
 * `details` (`target`, `heads`, `candidates`, `revision`).
 */
export interface RevisionGraph {
  /** Number of revisions. */
  readonly size: number
  /** Revisions no other revision names in `downRevisions`, sorted by id (`dependsOn` does not count). */
  readonly heads: readonly string[]
  /** Revisions with no `downRevisions`, sorted by id. */
  readonly bases: readonly string[]
  /** All revisions, parents and `dependsOn` targets before children, ties broken by revision id. */
  readonly ordered: readonly string[]
  /** Whether `revision` is a full revision id of this graph (no prefixes, no labels). */
  has(revision: string): boolean
  /** The node as given to `buildGraph`; throws `E_UNKNOWN_REVISION` for an unknown full id. */
  get(revision: string): RevisionNode
  /**
   * The `dependsOn` entries of `revision` resolved to revision ids (labels and
   * `X@head` replaced), in the order written; throws `E_UNKNOWN_REVISION`.
   */
  dependenciesOf(revision: string): readonly string[]
  /**
   * Resolves a target to revision ids, sorted. Forms:
   * - `heads`: every head; `head`: the single head, else `E_MULTIPLE_HEADS`
   *   (an empty graph gives `[]`); `base`: `[]`.
   * - a full revision id, a branch label (the revision carrying it), a unique
   *   prefix of a revision id (`E_AMBIGUOUS_REVISION` listing the candidates).
   * - `X@head`: the head reached from label or revision `X` through child
   *   edges; `E_MULTIPLE_HEADS` when the branch forks into several heads.
   * - `+N`: the revisions `up +N` ends on, where `up +N` applies the first N
   *   revisions of `upgradePath(applied, 'heads')` (from base when nothing is
   *   applied).
   * - `-N`: the current heads the database would have after `down -N`.
   * - `X+N` / `X-N`, X any form naming one revision, or `base+N`: N steps
   *   from X along child edges (a fork is `E_MULTIPLE_HEADS`) or parent edges.
   *
   * `+N` and `-N` start from the single current head, where a revision that
   * another applied revision depends on does not count as a head (Alembic's
   * normalised heads, issue #1373); several are `E_MULTIPLE_HEADS`. A relative
   * form that cannot take N steps, and any unknown target, is
   * `E_UNKNOWN_REVISION`.
   */
  resolve(target: string, applied?: ReadonlySet<string>): readonly string[]
  /** Applied revisions that no applied revision names as a downRevision: the database's heads, sorted. */
  currentHeads(applied: ReadonlySet<string>): readonly string[]
  /**
   * What `up TARGET` applies, in order: every unapplied ancestor of the target
   * revisions (through `downRevisions` and `dependsOn`) and the targets
   * themselves, parents before children, ties broken by revision id.
   * `-N` is refused with `E_USAGE` (it moves down).
   */
  upgradePath(applied: ReadonlySet<string>, target: string): readonly string[]
  /**
   * What `down TARGET` reverts, in order (children first, the exact reverse
   * of the order `up` would apply them): every applied descendant of the
   * targets through `downRevisions`, keeping the targets and everything they
   * need; plus, first, every applied revision that depends on a reverted one.
   * A revision that merely depends on a target is kept. `base` reverts
   * everything applied; `-N` reverts the revisions whose longest path of
   * downRevisions from the single current head is shorter than N (so `-1` at a
   * merge point reverts the merge and leaves its parents as heads), plus what
   * depends on them. A target that is not applied is `E_UNKNOWN_REVISION`;
   * `+N` is refused with `E_USAGE`.
   */
  downgradePath(applied: ReadonlySet<string>, target: string): readonly string[]
  /** Strict ancestors of `revision` through `downRevisions` (and `dependsOn` if asked). */
  ancestors(revision: string, options?: AncestorOptions): ReadonlySet<string>
  /** Strict descendants of `revision` through `downRevisions` only. */
  descendants(revision: string): ReadonlySet<string>
}
