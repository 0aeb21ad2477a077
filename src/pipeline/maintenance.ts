import {
  MaintenanceStore,
  parseMessage,
  parseUntil,
  type MaintenanceChange,
  type MaintenanceState,
} from '../maintenance/maintenance-store.js'
import { readOnly, whoAmI, withConnection, type DatabaseAccess } from './session.js'

/** What `strata maintenance on|off` asks for; `message` and `until` as the operator typed them. */
export interface MaintenanceRequest {
  readonly enabled: boolean
  /** Default "Down for maintenance". Ignored when turning off (the last message is kept). */
  readonly message?: string
  /** ISO-8601 time; stored as UTC. Ignored when turning off. */
  readonly until?: string
}

/** The store of a project's maintenance flag (`<table_prefix>maintenance`). */
export function maintenanceStore(project: DatabaseAccess): MaintenanceStore {
  return new MaintenanceStore(project.dialect, project.config.tablePrefix)
}

/**
 * Turns maintenance mode on or off (SPEC S10) and returns the stored state. The request is
 * validated before connecting (a bad `--until` is E_USAGE and touches nothing); the table is
 * created when missing.
 */
export async function setMaintenance(project: DatabaseAccess, request: MaintenanceRequest): Promise<MaintenanceState> {
  const change = toChange(request)
  return withConnection(project, (conn) => maintenanceStore(project).write(conn, change))
}

/** The stored flag; never creates anything (no SQLite file, no table): missing means off. */
export async function readMaintenance(project: DatabaseAccess): Promise<MaintenanceState> {
  return readOnly(project, (conn) => maintenanceStore(project).read(conn))
}

function toChange(request: MaintenanceRequest): MaintenanceChange {
  const setBy = whoAmI()
  const setAt = new Date().toISOString()
  if (!request.enabled) return { enabled: false, message: null, until: null, setBy, setAt }
  return { enabled: true, message: parseMessage(request.message), until: parseUntil(request.until), setBy, setAt }
}
