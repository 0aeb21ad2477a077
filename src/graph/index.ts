export { buildGraph } from './revision-graph.js'
export type { AncestorOptions, RevisionGraph, RevisionNode } from './types.js'
