export * from './codes.js'
export * from './strata-error.js'
export * from './redact.js'
