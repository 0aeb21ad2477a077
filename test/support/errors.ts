import { expect } from 'vitest'
import { StrataError } from '../../src/errors/index.js'

/** Runs `action` and returns the StrataError it throws; fails the test when it throws none. */
export function errorOf(action: () => unknown): StrataError {
  try {
    action()
  } catch (error) {
    expect(error).toBeInstanceOf(StrataError)
    return error as StrataError
  }
  throw new Error('expected a StrataError, nothing was thrown')
}
