/**
 * The last line of defence: a record that would put a secret on disk is refused, loudly. Upstream
 * code should never hand one over; this makes a mistake there fail a test instead of leaking.
 */
import { JournalError } from './records.js';

const SECRET_TEXT = /SharedAccessKey=|SharedAccessSignature/i;
const SECRET_FIELDS = new Set(['key', 'primarykey', 'secondarykey', 'connectionstring']);

const hasValue = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/** Throws JournalError('secret') naming the path of the offending field (never its value). */
export const assertNoSecrets = (record: unknown): void => {
  const stack: { value: unknown; path: string }[] = [{ value: record, path: '$' }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (SECRET_TEXT.test(value)) refuse(`${path} holds a shared access key or signature`);
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        if (v !== null && typeof v !== 'number' && typeof v !== 'boolean')
          stack.push({ value: v, path: `${path}[${i}]` });
      }
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (SECRET_FIELDS.has(k.toLowerCase()) && hasValue(v)) refuse(`${path}.${k} is a secret field`);
        if (typeof k === 'string' && SECRET_TEXT.test(k)) refuse(`${path} has a secret in a field name`);
        if (v !== null && typeof v === 'object') stack.push({ value: v, path: `${path}.${k}` });
        else if (typeof v === 'string') stack.push({ value: v, path: `${path}.${k}` });
      }
    }
  }
};

const refuse = (where: string): never => {
  throw new JournalError(
    'secret',
    `Refused to write a journal record: ${where}. ` +
      'Secrets are never journaled; this is a bug, please report it.',
  );
};

/**
 * Removes credentials from free text (service error messages) before it is shown or journaled.
 * Keeps the text around them so the message stays useful.
 */
export const scrubSecrets = (text: string): string =>
  text
    .replace(/SharedAccessSignature[=\s]+(?:SharedAccessSignature\s+)?[^\s"',;]*/gi, '[redacted signature]')
    .replace(/SharedAccessKey=[^;\s"']*/gi, '[redacted key]')
    .replace(/\b(sig|skn)=[^&\s"';]+/gi, '$1=[redacted]')
    .replace(/\bBearer\s+[A-Za-z0-9._~+/=-]+/g, 'Bearer [redacted]');
