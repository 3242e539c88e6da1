/**
 * The last line of defence: a record that would put a secret on disk is refused, loudly. Upstream
 * code should never hand one over; this makes a mistake there fail a test instead of leaking.
 */
import { containsSecret, scrubSecrets } from '../secrets.js';
import { journalError } from './records.js';

export { scrubSecrets };
const SECRET_FIELDS = new Set(['key', 'primarykey', 'secondarykey', 'connectionstring']);

const hasValue = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/** Throws a journal UserError ('secret') naming the path of the offending field (never its value). */
export const assertNoSecrets = (record: unknown): void => {
  const stack: { value: unknown; path: string }[] = [{ value: record, path: '$' }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { value, path } = top;
    if (typeof value === 'string') {
      if (containsSecret(value)) refuse(`${path} holds a shared access key or signature`);
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        if (v !== null && typeof v !== 'number' && typeof v !== 'boolean')
          stack.push({ value: v, path: `${path}[${i}]` });
      }
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (SECRET_FIELDS.has(k.toLowerCase()) && hasValue(v)) refuse(`${path}.${k} is a secret field`);
        if (containsSecret(k)) refuse(`${path} has a secret in a field name`);
        if (v !== null && typeof v === 'object') stack.push({ value: v, path: `${path}.${k}` });
        else if (typeof v === 'string') stack.push({ value: v, path: `${path}.${k}` });
      }
    }
  }
};

const refuse = (where: string): never => {
  throw journalError(
    'secret',
    `Refused to write a journal record: ${where}. ` +
      'Secrets are never journaled; this is a bug, please report it.',
  );
};
