import { readdirSync, realpathSync, statSync } from 'node:fs'
import { join, relative, isAbsolute } from 'node:path'
import { StrataError } from '../errors/index.js'

export interface DiscoveredFile {
  /** The name files sort and default their revision by: the file name without its extension(s). */
  readonly stem: string
  readonly kind: 'module' | 'sql' | 'sql-pair'
  readonly path: string
  readonly name: string
  /** For a pair: the `.down.sql` file, when present. */
  readonly downPath?: string
}

const MODULE = /\.(ts|mts|js|mjs)$/
const DECLARATION = /\.d\.(ts|mts)$/

/**
 * Lists the migration files of a directory (flat, no recursion), sorted by stem. Files that are
 * neither migrations nor their companions (README, fixtures, dotfiles) are ignored.
 */
export function discoverMigrations(dir: string): DiscoveredFile[] {
  let names: string[]
  let symlinks: Set<string>
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory')
    const entries = readdirSync(dir, { withFileTypes: true })
    names = entries.map((e) => e.name)
    symlinks = new Set(entries.filter((e) => e.isSymbolicLink()).map((e) => e.name))
  } catch {
    throw new StrataError('E_CONFIG', `migrations directory ${dir} does not exist`, {
      hint: 'create it with `strata init`, or point --migrations / `migrations:` at the right folder',
    })
  }
  const files: DiscoveredFile[] = []
  const pairs = new Map<string, { up?: string; down?: string }>()
  for (const name of names.sort()) {
    if (name.startsWith('.') || name.startsWith('_')) continue
    const path = join(dir, name)
    if (symlinks.has(name)) insideDirectory(dir, path)
    if (name.endsWith('.up.sql') || name.endsWith('.down.sql')) {
      const stem = name.replace(/\.(up|down)\.sql$/, '')
      const pair = pairs.get(stem) ?? {}
      pair[name.endsWith('.up.sql') ? 'up' : 'down'] = name
      pairs.set(stem, pair)
    } else if (name.endsWith('.sql')) {
      files.push({ stem: name.slice(0, -4), kind: 'sql', path, name })
    } else if (MODULE.test(name) && !DECLARATION.test(name)) {
      files.push({ stem: name.replace(MODULE, ''), kind: 'module', path, name })
    }
  }
  for (const [stem, pair] of pairs) {
    if (!pair.up) {
      throw new StrataError('E_MIGRATION_FILE', `${pair.down} has no matching ${stem}.up.sql`, {
        file: join(dir, pair.down!),
        hint: `add ${stem}.up.sql, or remove the orphan down file`,
      })
    }
    files.push({
      stem,
      kind: 'sql-pair',
      path: join(dir, pair.up),
      name: pair.up,
      ...(pair.down ? { downPath: join(dir, pair.down) } : {}),
    })
  }
  files.sort((a, b) => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0))
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.stem === files[i - 1]!.stem) {
      throw new StrataError('E_GRAPH_DUPLICATE', `two migration files share the name ${files[i]!.stem}: ${files[i - 1]!.name} and ${files[i]!.name}`, {
        file: files[i]!.path,
        hint: 'keep one file per migration',
      })
    }
  }
  return files
}

/** Migration files are read only from inside the migrations directory (SPEC S16). */
function insideDirectory(dir: string, path: string): void {
  let target: string
  try {
    target = realpathSync(path)
  } catch {
    throw new StrataError('E_MIGRATION_FILE', `${path} is a broken symbolic link`, { file: path, hint: 'remove it or point it at a file in the migrations directory' })
  }
  const rel = relative(realpathSync(dir), target)
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new StrataError('E_MIGRATION_FILE', `${path} links to ${target}, outside the migrations directory`, {
      file: path,
      hint: 'copy the migration into the migrations directory instead of linking to it',
    })
  }
}
