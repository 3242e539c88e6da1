/** Bad input from the person running the tool (flags, environment, config file): the CLI exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const isUsageError = (e: unknown): e is UsageError =>
  e instanceof Error && (e as { name?: string }).name === 'UsageError';
