import { migration } from 'strata-migrate'

/**
 * The SOP's zero-downtime migration, in its five phases: `graphics.event` becomes a required,
 * indexed `event_name` while the dashboard keeps serving.
 *
 *   1. expand    add `event_name` as nullable, plus a trigger that copies what the running
 *                application writes to `event` into it (inserts and updates alike);
 *   2. backfill  copy `event` into `event_name` for the existing rows, in short keyset batches;
 *      `strata up` stops here: the revision is `expanded`, both columns are in step.
 *   3. deploy    ship the application that reads `event_name` (outside strata);
 *   4. contract  `strata complete 001`: drop the trigger, make `event_name` required, index it,
 *   5.           and remove the old column.
 *
 * `strata abort 001` while expanded drops the trigger and the new column: the old application
 * never noticed either.
 */
export default migration({
  revision: '001_add_event_name_to_graphics',
  downRevision: '000_initial_schema',
  description: 'Move graphics.event to a required, indexed event_name without downtime',

  async expand(op) {
    op.addColumn('graphics', { name: 'event_name', type: 'varchar(120)', nullable: true })
    for (const sql of SYNC[dialectOf(op.dialect)].create) op.execute(sql)
  },

  async backfill(op) {
    // Short batches with a pause between them: the application's own writes get their turn.
    op.backfill({ table: 'graphics', set: { event_name: { sql: 'event' } }, where: 'event_name IS NULL', batchSize: 1000, throttleMs: 10 })
  },

  async contract(op) {
    for (const sql of SYNC[dialectOf(op.dialect)].drop) op.execute(sql)
    op.alterColumn('graphics', 'event_name', { nullable: false })
    op.createIndex('idx_graphics_event_name', 'graphics', ['event_name'])
    op.dropColumn('graphics', 'event')
  },

  async abort(op) {
    for (const sql of SYNC[dialectOf(op.dialect)].drop) op.execute(sql)
    op.dropColumn('graphics', 'event_name')
  },
})

type Engine = 'sqlite' | 'postgres' | 'mysql'

function dialectOf(name: string): Engine {
  if (name === 'sqlite' || name === 'postgres' || name === 'mysql') return name
  throw new Error(`no sync trigger for ${name}`)
}

/** The trigger keeping `event_name` equal to `event` while the old application writes `event`. */
const SYNC: Record<Engine, { create: string[]; drop: string[] }> = {
  sqlite: {
    create: [
      `CREATE TRIGGER graphics_event_name_on_insert AFTER INSERT ON graphics WHEN NEW.event_name IS NULL
       BEGIN UPDATE graphics SET event_name = NEW.event WHERE id = NEW.id; END`,
      `CREATE TRIGGER graphics_event_name_on_update AFTER UPDATE OF event ON graphics
       BEGIN UPDATE graphics SET event_name = NEW.event WHERE id = NEW.id; END`,
    ],
    drop: ['DROP TRIGGER IF EXISTS graphics_event_name_on_insert', 'DROP TRIGGER IF EXISTS graphics_event_name_on_update'],
  },
  postgres: {
    create: [
      `CREATE FUNCTION graphics_event_name_sync() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN
           NEW.event_name := COALESCE(NEW.event_name, NEW.event);
         ELSIF NEW.event IS DISTINCT FROM OLD.event THEN
           NEW.event_name := NEW.event;
         END IF;
         RETURN NEW;
       END $$`,
      `CREATE TRIGGER graphics_event_name_sync BEFORE INSERT OR UPDATE ON graphics
       FOR EACH ROW EXECUTE FUNCTION graphics_event_name_sync()`,
    ],
    drop: ['DROP TRIGGER IF EXISTS graphics_event_name_sync ON graphics', 'DROP FUNCTION IF EXISTS graphics_event_name_sync()'],
  },
  mysql: {
    create: [
      `CREATE TRIGGER graphics_event_name_on_insert BEFORE INSERT ON graphics FOR EACH ROW
       SET NEW.event_name = COALESCE(NEW.event_name, NEW.event)`,
      `CREATE TRIGGER graphics_event_name_on_update BEFORE UPDATE ON graphics FOR EACH ROW
       SET NEW.event_name = IF(NEW.event <=> OLD.event, NEW.event_name, NEW.event)`,
    ],
    drop: ['DROP TRIGGER IF EXISTS graphics_event_name_on_insert', 'DROP TRIGGER IF EXISTS graphics_event_name_on_update'],
  },
}
