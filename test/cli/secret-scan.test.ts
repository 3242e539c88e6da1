import { describe, expect, it } from 'vitest';
import { outputScan } from '../support/cli.js';

const KEY = Buffer.from('policy-key-for-the-scan-test-0123').toString('base64');

describe('the secret scan every CLI test ends with', () => {
  it('fails on a policy key, a SAS token or a connection string with its key, naming none of them', () => {
    for (const leak of [
      `done. key=${KEY}`,
      'Authorization: SharedAccessSignature sr=hub&sig=abc',
      'HostName=h;SharedAccessKeyName=o;SharedAccessKey=QUJDREVGR0hJSktM',
    ]) {
      const scan = outputScan(() => [KEY]);
      scan.add('plan printed', leak);
      let message = '';
      try {
        scan.check();
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, leak).toMatch(/printed a secret/);
      expect(message).not.toContain(KEY);
      expect(message).not.toContain('QUJDREVGR0hJSktM');
    }
  });

  it("scans each test's own outputs once: a later test is not failed by an earlier one's output", () => {
    const scan = outputScan(() => [KEY]);
    scan.add(KEY);
    expect(() => scan.check()).toThrow(/printed a secret/);
    scan.add('a clean output');
    expect(() => scan.check()).not.toThrow();
  });

  it('allows a word a file prints on purpose, but still catches the key by value and a full connection string', () => {
    const scan = outputScan(() => [KEY], { allowed: ['SharedAccessKey='], extraSecrets: ['marked-0123'] });
    scan.add('device meter-SharedAccessKey=1 refused; usage: --hub "HostName=...;SharedAccessKey=..."');
    expect(() => scan.check()).not.toThrow();
    scan.add('echoed marked-0123');
    expect(() => scan.check()).toThrow(/marked value/);
    scan.add(`;SharedAccessKey=${KEY}`);
    expect(() => scan.check()).toThrow(/connection string with its key/);
  });
});
