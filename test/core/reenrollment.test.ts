import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificateChain } from '../../src/core/certs.js';
import { analyzeMany, analyzeReenrollment, type DeviceEvidence } from '../../src/core/reenrollment.js';
import { issueCertificate } from '../support/certs.js';
import {
  chainOf,
  individual,
  infoOf,
  type Pki,
  pki,
  state,
  symmetricKeyGroup,
  x509Group,
} from './fixtures.js';

let p: Pki;
beforeAll(async () => {
  p = await pki();
});

const full = () => chainOf(p.chain1.chainPem);
const device = (extra: Partial<DeviceEvidence> = {}): DeviceEvidence => ({
  registrationId: 'dev-x1',
  ...extra,
});

describe('individual enrollment first', () => {
  it('a disabled blocker refuses the device even when an enabled group holds its chain', () => {
    const v = analyzeReenrollment(
      device({ attestation: 'x509', chain: full() }),
      state({
        individualEnrollments: [
          individual('dev-x1', 'symmetricKey', 'disabled', { blocker: { groupId: 'g-int' } }),
        ],
        enrollmentGroups: [x509Group('g-int', [p.intermediateInfo])],
      }),
    );
    expect(v).toMatchObject({ registrationId: 'dev-x1', verdict: 'blocked', path: 'enrollments/dev-x1' });
    expect(v.reason).toBe(
      'A disabled individual enrollment (blocker) exists for this registration ID: ' +
        'DPS refuses it before looking at groups.',
    );
  });

  it('an untagged disabled enrollment blocks too, and an enabled one lets it in', () => {
    const disabled = analyzeReenrollment(
      device(),
      state({ individualEnrollments: [individual('dev-x1', 'tpm', 'disabled')] }),
    );
    expect(disabled.verdict).toBe('blocked');
    expect(disabled.reason).not.toContain('blocker');
    const enabled = analyzeReenrollment(
      device(),
      state({ individualEnrollments: [individual('dev-x1', 'tpm')] }),
    );
    expect(enabled).toMatchObject({ verdict: 'allowed', path: 'enrollments/dev-x1' });
  });

  it('TPM devices without an individual enrollment have nowhere to go', () => {
    const v = analyzeReenrollment(
      device({ attestation: 'tpm' }),
      state({ enrollmentGroups: [symmetricKeyGroup('s')] }),
    );
    expect(v.verdict).toBe('blocked');
    expect(v.reason).toMatch(/TPM devices provision only through individual enrollments/);
  });
});

describe('symmetric key', () => {
  it.each([
    ['enabled', 'allowed'],
    ['disabled', 'blocked'],
  ] as const)('the group it registered through decides: %s -> %s', (status, verdict) => {
    const v = analyzeReenrollment(
      device({ attestation: 'symmetricKey', groupId: 'g-sym' }),
      state({ enrollmentGroups: [symmetricKeyGroup('g-sym', status), symmetricKeyGroup('other')] }),
    );
    expect(v).toMatchObject({ verdict, path: 'enrollmentGroups/g-sym' });
  });

  it('its group gone: blocked, whatever other symmetric-key groups exist', () => {
    const v = analyzeReenrollment(
      device({ attestation: 'symmetricKey', groupId: 'g-sym' }),
      state({ enrollmentGroups: [symmetricKeyGroup('other')] }),
    );
    expect(v.verdict).toBe('blocked');
    expect(v.reason).toMatch(/no longer exists.*no enrollment holds a key it can present/);
  });

  it('unknown provenance: blocked only when no enabled symmetric-key group could derive its key', () => {
    const none = analyzeReenrollment(
      device({ attestation: 'symmetricKey' }),
      state({ enrollmentGroups: [symmetricKeyGroup('off', 'disabled'), x509Group('x', [p.rootInfo])] }),
    );
    expect(none.verdict).toBe('blocked');
    expect(none.reason).toMatch(/^nothing enrolls this registration ID/);
    const some = analyzeReenrollment(
      device({ attestation: 'symmetricKey' }),
      state({ enrollmentGroups: [symmetricKeyGroup('off', 'disabled'), symmetricKeyGroup('on')] }),
    );
    expect(some).toMatchObject({ verdict: 'possible', path: 'enrollmentGroups/on', uncertain: true });
  });
});

describe('X.509 with the device chain', () => {
  it('the group of the first intermediate decides before the root group', () => {
    const groups = (intStatus: 'enabled' | 'disabled') => [
      x509Group('g-root', [p.rootInfo]),
      x509Group('g-int', [p.intermediateInfo], intStatus),
    ];
    const on = analyzeReenrollment(device({ chain: full() }), state({ enrollmentGroups: groups('enabled') }));
    expect(on).toMatchObject({ verdict: 'allowed', path: 'enrollmentGroups/g-int' });
    const off = analyzeReenrollment(
      device({ chain: full() }),
      state({ enrollmentGroups: groups('disabled') }),
    );
    expect(off).toMatchObject({ verdict: 'blocked', path: 'enrollmentGroups/g-int' });
    expect(off.reason).toMatch(/first group DPS finds/);
  });

  it('without an intermediate group the root group decides', () => {
    const v = analyzeReenrollment(
      device({ chain: full() }),
      state({ enrollmentGroups: [x509Group('g-root', [p.rootInfo])] }),
    );
    expect(v).toMatchObject({ verdict: 'allowed', path: 'enrollmentGroups/g-root' });
  });

  it('a group referencing the root as a verified CA is found through its thumbprint', () => {
    const v = analyzeReenrollment(
      device({ chain: full() }),
      state({
        enrollmentGroups: [x509Group('g-ca', [], 'enabled', ['contoso-root'])],
        caCertificates: { 'contoso-root': p.rootInfo },
      }),
    );
    expect(v).toMatchObject({ verdict: 'allowed', path: 'enrollmentGroups/g-ca' });
  });

  it('a fully known chain nobody enrolls is blocked; an unreadable CA reference makes it possible', () => {
    const other = infoOf(p.chain1.leaf);
    const none = analyzeReenrollment(
      device({ chain: full() }),
      state({ enrollmentGroups: [x509Group('x', [other])] }),
    );
    expect(none.verdict).toBe('blocked');
    expect(none.reason).toMatch(/checked up to its root "CN=Contoso Root CA"/);
    const unresolved = analyzeReenrollment(
      device({ chain: full() }),
      state({ enrollmentGroups: [x509Group('g-ca', [], 'enabled', ['missing'])] }),
    );
    expect(unresolved).toMatchObject({ verdict: 'possible', path: 'enrollmentGroups/g-ca', uncertain: true });
  });

  it('a broken chain (same-name intermediate, other key) is only possible', async () => {
    const impostor = await issueCertificate(p.chain1.root, 'Contoso Intermediate CA', { ca: true });
    const chain = parseCertificateChain(`${p.chain1.leaf.pem}${impostor.pem}${p.chain1.root.pem}`);
    const v = analyzeReenrollment(
      device({ chain }),
      state({ enrollmentGroups: [x509Group('g-root', [p.rootInfo])] }),
    );
    expect(v.verdict).toBe('possible');
    expect(v.reason).toMatch(/chain given is broken: certificate 2 .* did not sign certificate 1/);
  });

  it('an incomplete chain (no root) is possible only if an enabled group could sit above it', () => {
    const partial = chainOf(p.chain1.leafAndIntermediatePem);
    const above = analyzeReenrollment(
      device({ chain: partial }),
      state({ enrollmentGroups: [x509Group('g-root', [p.rootInfo])] }),
    );
    expect(above).toMatchObject({ verdict: 'possible', path: 'enrollmentGroups/g-root' });
    const disabled = analyzeReenrollment(
      device({ chain: partial }),
      state({ enrollmentGroups: [x509Group('g-root', [p.rootInfo], 'disabled')] }),
    );
    expect(disabled.verdict).toBe('blocked');
    const nobody = analyzeReenrollment(
      device({ chain: partial }),
      state({ enrollmentGroups: [symmetricKeyGroup('s')] }),
    );
    expect(nobody.verdict).toBe('blocked');
    const unknown = analyzeReenrollment(
      device({ chain: partial }),
      state({ enrollmentGroups: [x509Group('g-ca', [], 'enabled', ['missing'])] }),
    );
    expect(unknown).toMatchObject({ verdict: 'possible', path: 'enrollmentGroups/g-ca' });
  });
});

describe('X.509 without a chain', () => {
  const gone = () =>
    device({ attestation: 'x509', groupId: 'g-int', groupCertificates: [p.intermediateInfo] });

  it('the group it registered through decides while it exists', () => {
    const off = analyzeReenrollment(
      device({ groupId: 'g-int' }),
      state({
        enrollmentGroups: [
          x509Group('g-int', [p.intermediateInfo], 'disabled'),
          x509Group('g-root', [p.rootInfo]),
        ],
      }),
    );
    expect(off).toMatchObject({ verdict: 'blocked', path: 'enrollmentGroups/g-int' });
    const on = analyzeReenrollment(
      device({ groupId: 'g-int' }),
      state({ enrollmentGroups: [x509Group('g-int', [p.intermediateInfo])] }),
    );
    expect(on).toMatchObject({ verdict: 'allowed', path: 'enrollmentGroups/g-int' });
  });

  it('its group gone: an enabled group above it by name makes it possible', () => {
    const v = analyzeReenrollment(gone(), state({ enrollmentGroups: [x509Group('g-root', [p.rootInfo])] }));
    expect(v).toMatchObject({ verdict: 'possible', path: 'enrollmentGroups/g-root' });
    expect(v.reason).toMatch(/names are not proof/);
    const disabled = analyzeReenrollment(
      gone(),
      state({ enrollmentGroups: [x509Group('g-root', [p.rootInfo], 'disabled')] }),
    );
    expect(disabled).toMatchObject({ verdict: 'blocked', path: 'enrollmentGroups/g-root' });
    expect(analyzeReenrollment(gone(), state()).verdict).toBe('blocked');
    const unresolved = analyzeReenrollment(
      gone(),
      state({ enrollmentGroups: [x509Group('g-ca', [], 'enabled', ['x'])] }),
    );
    expect(unresolved).toMatchObject({ verdict: 'possible', path: 'enrollmentGroups/g-ca' });
  });

  it('its group gone: another group with the very same certificate decides', () => {
    const v = analyzeReenrollment(
      gone(),
      state({ enrollmentGroups: [x509Group('g-int-2', [p.intermediateInfo])] }),
    );
    expect(v).toMatchObject({ verdict: 'allowed', path: 'enrollmentGroups/g-int-2' });
  });

  it('the name walk crosses a verified CA certificate no group uses', async () => {
    const issuing = await issueCertificate(p.chain1.intermediate, 'Contoso Issuing CA', { ca: true });
    const v = analyzeReenrollment(
      device({ attestation: 'x509', groupId: 'g-issuing', groupCertificates: [infoOf(issuing)] }),
      state({
        enrollmentGroups: [x509Group('g-root', [p.rootInfo])],
        caCertificates: { intermediate: p.intermediateInfo },
      }),
    );
    expect(v).toMatchObject({ verdict: 'possible', path: 'enrollmentGroups/g-root' });
    const withoutLink = analyzeReenrollment(
      device({ attestation: 'x509', groupId: 'g-issuing', groupCertificates: [infoOf(issuing)] }),
      state({ enrollmentGroups: [x509Group('g-root', [p.rootInfo])] }),
    );
    expect(withoutLink.verdict).toBe('blocked');
  });

  it('an individual X.509 leaf (as DPS reports it) walks up from its issuer', () => {
    const v = analyzeReenrollment(
      device({ attestation: 'x509', leafCertificate: infoOf(p.chain1.leaf) }),
      state({ enrollmentGroups: [x509Group('g-int', [p.intermediateInfo])] }),
    );
    expect(v).toMatchObject({ verdict: 'possible', path: 'enrollmentGroups/g-int' });
  });

  it('a group gone with no known certificate is possible while any X.509 group is enabled', () => {
    const evidence = device({ attestation: 'x509', groupId: 'g-gone' });
    expect(
      analyzeReenrollment(evidence, state({ enrollmentGroups: [x509Group('g-root', [p.rootInfo])] })).verdict,
    ).toBe('possible');
    expect(analyzeReenrollment(evidence, state({ enrollmentGroups: [symmetricKeyGroup('s')] })).verdict).toBe(
      'blocked',
    );
  });
});

describe('unknown attestation and many devices', () => {
  it('unknown attestation is possible while any group is enabled', () => {
    expect(
      analyzeReenrollment(device(), state({ enrollmentGroups: [symmetricKeyGroup('s', 'disabled')] }))
        .verdict,
    ).toBe('blocked');
    expect(analyzeReenrollment(device(), state({ enrollmentGroups: [symmetricKeyGroup('s')] })).verdict).toBe(
      'possible',
    );
  });

  it('analyzeMany answers each device as analyzeReenrollment does, for 100,000 devices', () => {
    const s = state({
      enrollmentGroups: [symmetricKeyGroup('g', 'disabled'), symmetricKeyGroup('open')],
      individualEnrollments: [
        individual('d-7', 'symmetricKey'),
        individual('d-11', 'symmetricKey', 'disabled'),
      ],
    });
    // Every kind of answer in the mix: blocked, allowed (an enabled individual or group), possible (no
    // attestation known while a group is enabled), across groups that exist and one that does not.
    const groups = ['g', 'open', 'gone', undefined];
    const attestations = ['symmetricKey', 'tpm', undefined] as const;
    const devices: DeviceEvidence[] = Array.from({ length: 100_000 }, (_, i) => ({
      registrationId: `d-${i}`,
      attestation: attestations[i % 3],
      groupId: groups[i % 4],
    }));
    const started = performance.now();
    const verdicts = analyzeMany(devices, s);
    console.log(`analyzeMany: 100,000 devices in ${(performance.now() - started).toFixed(0)} ms`);
    expect(verdicts).toHaveLength(100_000);
    const differing = devices.filter(
      (d, i) => JSON.stringify(verdicts[i]) !== JSON.stringify(analyzeReenrollment(d, s)),
    );
    expect(differing.map((d) => d.registrationId)).toEqual([]);
    expect(new Set(verdicts.map((v) => v.verdict)).size).toBeGreaterThan(1);
  });
});
