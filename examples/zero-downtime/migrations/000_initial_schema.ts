import { migration } from 'strata-migrate'

/**
 * The dashboard before the change: each graphic names its event in the free-text column `event`,
 * which the running application reads and writes.
 */
export default migration({
  downRevision: null,
  description: 'Initial schema: graphics with a free-text event column',

  async up(op) {
    op.createTable('graphics', [
      { name: 'id', type: 'integer', primaryKey: true, autoIncrement: true },
      { name: 'title', type: 'text', nullable: false },
      { name: 'graphic_type', type: 'varchar(32)', nullable: false, default: 'lower-third' },
      { name: 'event', type: 'varchar(120)', nullable: false },
      { name: 'is_live', type: 'boolean', nullable: false, default: false },
    ])
    const rows: Array<[string, string, string, boolean]> = [
      ['Match score', 'scoreboard', 'Cup Final', true],
      ['Player lower third', 'lower-third', 'Cup Final', false],
      ['Standings', 'table', 'League Round 12', false],
      ['Round timer', 'timer', 'League Round 12', true],
      ['Sponsor bug', 'bug', 'Sponsor Night', true],
    ]
    for (const [title, type, event, live] of rows) {
      op.execute('INSERT INTO graphics (title, graphic_type, event, is_live) VALUES (?, ?, ?, ?)', [title, type, event, live])
    }
  },

  async down(op) {
    op.dropTable('graphics')
  },
})
