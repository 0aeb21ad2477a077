import { migration } from 'strata-migrate'

/** The SOP's migration 001: an event name per graphic, indexed, added without losing a row. */
export default migration({
  revision: '001_add_event_name_to_graphics',
  downRevision: '000_initial_schema',
  description: 'Add event_name to graphics table',

  async up(op) {
    op.batchAlterTable('graphics', (batch) => {
      batch.addColumn({ name: 'event_name', type: 'text', nullable: true })
      batch.createIndex('idx_graphics_event_name', ['event_name'], { unique: false })
    })
  },

  async down(op) {
    op.batchAlterTable('graphics', (batch) => {
      batch.dropIndex('idx_graphics_event_name')
      batch.dropColumn('event_name')
    })
  },
})
