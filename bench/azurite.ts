/**
 * Azurite's blob service for the benchmarks and the tests (test/support/azurite.ts re-exports this): the
 * one start, src/services/storage/azurite.ts, which the sandbox uses too.
 */
export { type AzuriteHandle, startAzurite } from '../src/services/storage/azurite.js';
