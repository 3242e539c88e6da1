/** Service failures as values the core can reason about (the adapters map SDK errors to these). */

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

export const isServiceError = (e: unknown): e is ServiceError =>
  e instanceof Error && (e as { name?: string }).name === 'ServiceError' && 'kind' in e;
