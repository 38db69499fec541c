/**
 * Throwaway Dovecot instances for tests and benchmarks: the lab that `marksync demo --dovecot`
 * uses too (src/bridge/dovecot-lab.ts), so tests run the code that ships. Tests skip with
 * DOVECOT_SKIP when Dovecot or root is missing.
 */
export * from '../../src/bridge/dovecot-lab.js'
