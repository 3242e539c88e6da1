/** Azurite for the tests: the same start as the benchmarks' (bench/azurite.ts, compiled by the build). */
export { type AzuriteHandle, startAzurite } from '../../bench/azurite.js';
