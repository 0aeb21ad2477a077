/** strata's version, as recorded in backup manifests and printed by `--version`. */
export const VERSION = '0.1.0'
