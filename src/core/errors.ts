/**
 * The two error types of the program. `ServiceError`: a service call failed (the adapters map SDK errors
 * to it; the core and the executor reason about its `kind`). `UserError`: something the person running
 * the tool can fix (a flag, a file, a lock), with what to try and the exit code. The CLI's edge turns
 * every error into what a person reads, in one place (cli.ts `explain`).
 */

/** Exit codes (a contract: tests and docs rely on them). */
export const EXIT = { done: 0, failed: 1, usage: 2, aborted: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type ServiceErrorKind =
  | 'notFound'
  | 'conflict'
  | 'preconditionFailed'
  | 'throttled'
  | 'unauthorized'
  | 'forbidden'
  | 'badRequest'
  | 'transient'
  | 'timeout'
  | 'unknown';

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    readonly details: { status?: number; code?: string; retryAfterMs?: number; target?: string } = {},
  ) {
    super(message);
  }
  get retryable(): boolean {
    return this.kind === 'throttled' || this.kind === 'transient' || this.kind === 'timeout';
  }
}

export const isServiceError = (e: unknown): e is ServiceError => e instanceof ServiceError;

/**
 * What a `UserError` is about, for code that decides on it (never on the message text).
 * usage: a flag or argument; certificate: a certificate given; noTarget: no DPS configured; stateFile /
 * stateLocked: the sandbox's --state file; journal*: the run journal (its own codes, see records.ts).
 */
export type UserErrorCode =
  | 'usage'
  | 'certificate'
  | 'noTarget'
  | 'stateFile'
  | 'stateLocked'
  | 'secret'
  | 'corrupt'
  | 'notFound'
  | 'badRunId'
  | 'noPlan'
  | 'io'
  | 'locked';

/** Something the person can fix: the message says what is wrong, `hint` what to try. Never a secret. */
export class UserError extends Error {
  override readonly name = 'UserError';
  readonly code: UserErrorCode;
  readonly hint?: string;
  readonly exitCode: ExitCode;
  constructor(message: string, opts: { code?: UserErrorCode; hint?: string; exitCode?: ExitCode } = {}) {
    super(message);
    this.code = opts.code ?? 'usage';
    if (opts.hint) this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? EXIT.usage;
  }
}

export const isUserError = (e: unknown, code?: UserErrorCode): e is UserError =>
  e instanceof UserError && (code === undefined || e.code === code);
