import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeReenrollment } from '../../src/core/reenrollment.js';
import { createRootCa } from '../support/certs.js';
import { infoOf, type Pki, pki, state, symmetricKeyGroup, x509Group } from './fixtures.js';

// After the run deleted a device's individual enrollment, only what was read before tells how it attested.
let p: Pki;
let selfSigned: Awaited<ReturnType<typeof createRootCa>>;
beforeAll(async () => {
  p = await pki();
  selfSigned = await createRootCa('kiosk-0005');
});

describe('a device whose individual enrollment was deleted', () => {
  it('with a self-signed certificate is blocked even while an enabled group references an unreadable CA', () => {
    const v = analyzeReenrollment(
      { registrationId: 'kiosk-0005', attestation: 'x509', leafCertificate: infoOf(selfSigned) },
      state({ enrollmentGroups: [x509Group('root-ref', [], 'enabled', ['some-ca'])] }),
    );
    expect(v.verdict).toBe('blocked');
    expect(v.reason).toMatch(/self-signed/);
  });

  it('with a self-signed certificate that a group itself holds is not called blocked', () => {
    const leaf = infoOf(selfSigned);
    const v = analyzeReenrollment(
      { registrationId: 'kiosk-0005', attestation: 'x509', leafCertificate: leaf },
      state({ enrollmentGroups: [x509Group('odd', [leaf])] }),
    );
    expect(v.verdict).not.toBe('blocked');
  });

  it('with a CA-issued certificate stays possible while a group holds its issuer', () => {
    const leaf = infoOf(p.chain1.leaf);
    const v = analyzeReenrollment(
      { registrationId: 'dev-x1', attestation: 'x509', leafCertificate: leaf },
      state({ enrollmentGroups: [x509Group('g-int', [p.intermediateInfo])] }),
    );
    expect(v).toMatchObject({ verdict: 'possible', path: 'enrollmentGroups/g-int' });
  });

  it('with its own symmetric key is blocked even while symmetric-key groups are enabled', () => {
    const groups = [symmetricKeyGroup('meters')];
    const own = analyzeReenrollment(
      { registrationId: 'pump-8', attestation: 'symmetricKey', enrolledIndividually: true },
      state({ enrollmentGroups: groups }),
    );
    expect(own.verdict).toBe('blocked');
    const unknown = analyzeReenrollment(
      { registrationId: 'pump-8', attestation: 'symmetricKey' },
      state({ enrollmentGroups: groups }),
    );
    expect(unknown.verdict).toBe('possible');
  });
});
