/**
 * Secrets are recognised by what they are (this process's keys, SAS tokens and signatures, a key inside
 * a connection string), not by a word that an ID may also contain.
 */
import { describe, expect, it } from 'vitest';
import { parseConnectionString } from '../../src/services/azure/auth.js';
import { assertNoSecrets } from '../../src/services/journal/redact.js';
import { containsSecret, scrubSecrets } from '../../src/services/secrets.js';

const KEY = Buffer.from('a-key-this-run-was-given-0123456789').toString('base64');

describe('secrets', () => {
  it('a device ID containing SharedAccessKey= is an ID: journaled and printed as it is', () => {
    const id = 'meter-SharedAccessKey=1';
    const record = {
      type: 'outcome',
      result: { stepId: 'deregister:0', devices: [{ id, outcome: 'succeeded' }] },
    };
    expect(() => assertNoSecrets(record)).not.toThrow();
    expect(() => assertNoSecrets({ call: `PUT devices/${id} status=disabled` })).not.toThrow();
    expect(scrubSecrets(`get device '${id}' failed`)).toBe(`get device '${id}' failed`);
  });

  it('the --hub usage message keeps its example intact', () => {
    const text =
      '--hub: expected a connection string (HostName=...;SharedAccessKeyName=...;SharedAccessKey=...) or a host name';
    expect(scrubSecrets(text)).toBe(text);
    const sas =
      '--dps: the connection string carries a SharedAccessSignature; give one with a SharedAccessKey';
    expect(scrubSecrets(sas)).toBe(sas);
  });

  it('the keys of this run, wherever they appear, SAS tokens and signatures are secrets', () => {
    parseConnectionString(
      `HostName=h.azure-devices.net;SharedAccessKeyName=o;SharedAccessKey=${KEY}`,
      'hub',
      '--hub',
    );
    expect(containsSecret(`weird text ${KEY} here`)).toBe(true);
    expect(() => assertNoSecrets({ message: `x${KEY}` })).toThrow(/holds a shared access key/);
    expect(scrubSecrets(`echoed ${KEY}!`)).toBe('echoed [redacted]!');
    const token = 'SharedAccessSignature sr=h.azure-devices.net&sig=AbC%2Bdef%3D&se=1&skn=o';
    expect(containsSecret(token)).toBe(true);
    expect(scrubSecrets(`Authorization: ${token}`)).not.toMatch(/AbC/);
    expect(scrubSecrets('GET /x?api-version=1&sig=AbCdef123 failed')).toBe(
      'GET /x?api-version=1&sig=[redacted] failed',
    );
    expect(containsSecret('HostName=h;SharedAccessKeyName=o;SharedAccessKey=c2VjcmV0')).toBe(true);
  });
});
