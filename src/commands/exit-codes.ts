/**
 * Exit codes (a contract: tests and docs rely on them), importable by the launcher without loading the
 * headless commands. Defined with the error types in core/errors.ts.
 */
export { EXIT } from '../core/errors.js';
