import { describe, expect, it } from 'vitest';
import { EXIT, isServiceError, isUserError, ServiceError, UserError } from '../../src/core/errors.js';
import { parseCertificateChain } from '../../src/core/certs.js';

describe('one error model', () => {
  it('a UserError is bad input (exit 2) unless it says otherwise, and carries its hint apart', () => {
    const e = new UserError('--hub-units "0": expected a whole number >= 1', { hint: 'give 1 or more' });
    expect(e).toMatchObject({ code: 'usage', exitCode: EXIT.usage, hint: 'give 1 or more' });
    expect(new UserError('could not start', { exitCode: EXIT.failed }).exitCode).toBe(1);
  });

  it('code decides, not the name or the message: an Error named UserError is not one', () => {
    const impostor = Object.assign(new Error('no DPS configured'), { name: 'UserError', code: 'noTarget' });
    expect(isUserError(impostor)).toBe(false);
    expect(isUserError(new UserError('x', { code: 'noTarget' }), 'noTarget')).toBe(true);
    expect(isUserError(new UserError('x', { code: 'noTarget' }), 'certificate')).toBe(false);
    const fake = Object.assign(new Error('throttled'), { name: 'ServiceError', kind: 'throttled' });
    expect(isServiceError(fake)).toBe(false);
    expect(isServiceError(new ServiceError('throttled', 'slow down'))).toBe(true);
  });

  it('a bad certificate is a UserError with code "certificate"', () => {
    let thrown: unknown;
    try {
      parseCertificateChain('not a pem');
    } catch (e) {
      thrown = e;
    }
    expect(isUserError(thrown, 'certificate')).toBe(true);
  });
});
