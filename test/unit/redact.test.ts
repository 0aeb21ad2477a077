import { describe, expect, it } from 'vitest'
import { redact, redactDeep, redactJson } from '../../src/errors/redact.js'

describe('redact', () => {
  it('masks the password of a URL whatever its scheme, keeping the user and host', () => {
    expect(redact('cannot connect to postgres://app:s3cret@db.internal:5432/prod')).toBe('cannot connect to postgres://app:****@db.internal:5432/prod')
    expect(redact('mysql://root:pw@127.0.0.1/test and mariadb+ssl://u:p%40ss@h/x')).toBe('mysql://root:****@127.0.0.1/test and mariadb+ssl://u:****@h/x')
    expect(redact('hook https://bot:tok3n@hooks.example.com/a')).toBe('hook https://bot:****@hooks.example.com/a')
  })

  it('masks secrets given as key=value, in any case, and leaves other assignments alone', () => {
    expect(redact('PGPASSWORD=hunter2 psql')).toBe('PGPASSWORD=**** psql')
    expect(redact('host=db password=abc;token=xyz api_key=k1 apikey=k2 Secret=s')).toBe('host=db password=****;token=**** api_key=**** apikey=**** Secret=****')
    expect(redact("UPDATE graphics SET event_name = 'x' WHERE id=1")).toBe("UPDATE graphics SET event_name = 'x' WHERE id=1")
  })

  it('leaves an address without a URL, a URL without credentials and plain text as they are', () => {
    for (const text of ['author dev@dashboard', 'http://127.0.0.1:9000/hook', 'postgres://postgres@127.0.0.1/test', 'migration 001 completed in 12 ms']) {
      expect(redact(text)).toBe(text)
    }
  })

  it('masks a credential far into a long text', () => {
    const text = `${'word '.repeat(50_000)}user@host postgres://a:b@c/d`
    expect(redact(text).endsWith('user@host postgres://a:****@c/d')).toBe(true)
  })
})

describe('redactDeep', () => {
  it('returns the same value when nothing in it needs masking, and a masked copy otherwise', () => {
    const clean = { author: 'root@vm', steps: ['a', 'b'], nested: { url: 'sqlite:/tmp/app.db' } }
    expect(redactDeep(clean)).toBe(clean)
    const dirty = { author: 'root@vm', error: 'cannot connect to postgres://u:pw@h/db', list: ['token=abc', 3], nothing: null }
    const masked = redactDeep(dirty)
    expect(masked).toEqual({ author: 'root@vm', error: 'cannot connect to postgres://u:****@h/db', list: ['token=****', 3], nothing: null })
    expect(dirty.error).toBe('cannot connect to postgres://u:pw@h/db')
  })
})

describe('redactJson', () => {
  it('gives the value itself and its JSON when nothing needs masking, a masked copy and its JSON otherwise', () => {
    const clean = { author: 'root@vm', n: 3 }
    expect(redactJson(clean)).toEqual({ value: clean, json: '{"author":"root@vm","n":3}' })
    expect(redactJson(clean).value).toBe(clean)
    expect(redactJson(clean, 2).json).toBe(JSON.stringify(clean, null, 2))
    const dirty = { error: 'postgres://u:pw@h/db failed', nested: [{ env: 'PGPASSWORD=x' }] }
    const { value, json } = redactJson(dirty, 2)
    expect(value).toEqual({ error: 'postgres://u:****@h/db failed', nested: [{ env: 'PGPASSWORD=****' }] })
    expect(json).toBe(JSON.stringify(value, null, 2))
    expect(json).not.toContain('pw@')
  })
})
