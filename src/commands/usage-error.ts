/** Bad usage or input: the CLI prints the message (no stack) and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const isUsageError = (e: unknown): e is Error =>
  e instanceof Error && (e.name === 'UsageError' || e.name === 'CertificateError');
