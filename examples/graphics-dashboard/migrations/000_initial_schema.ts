import { migration } from 'strata-migrate'

/** The dashboard as it was before the SOP's change: the graphics table with some live rows. */
export default migration({
  downRevision: null,
  description: 'Initial schema: graphics table with sample graphics',

  async up(op) {
    op.createTable('graphics', [
      { name: 'id', type: 'integer', primaryKey: true, autoIncrement: true },
      { name: 'title', type: 'text', nullable: false },
      { name: 'graphic_type', type: 'varchar(32)', nullable: false, default: 'lower-third' },
      { name: 'payload', type: 'json', nullable: false, default: '{}' },
      { name: 'is_live', type: 'boolean', nullable: false, default: false },
      { name: 'created_at', type: 'timestamp', nullable: false, default: { sql: 'CURRENT_TIMESTAMP' } },
    ])
    const rows: Array<[string, string, string, boolean]> = [
      ['Match score', 'scoreboard', '{"home": 2, "away": 1}', true],
      ['Player lower third', 'lower-third', '{"name": "Mira Okafor", "role": "Captain"}', false],
      ['Standings', 'table', '{"rows": 8}', false],
      ['Round timer', 'timer', '{"seconds": 900}', true],
      ['Sponsor bug', 'bug', '{"logo": "sponsor.png"}', true],
    ]
    for (const [title, type, payload, live] of rows) {
      op.execute('INSERT INTO graphics (title, graphic_type, payload, is_live) VALUES (?, ?, ?, ?)', [title, type, payload, live])
    }
  },

  async down(op) {
    op.dropTable('graphics')
  },
})
