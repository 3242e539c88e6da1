import { beforeAll, describe, expect, it } from 'vitest';
import type { KnownState } from '../../src/core/model.js';
import { planDeprovision } from '../../src/core/plan.js';
import type { DeviceChoice } from '../../src/core/selection.js';
import { applyPlan } from '../../src/core/simulate.js';
import { analyzeReenrollment } from '../../src/core/reenrollment.js';
import { cachedChain } from '../support/certs.js';
import {
  actions,
  HUB_EU,
  HUB_US,
  individual,
  type Pki,
  pki,
  record,
  state,
  symmetricKeyGroup,
  x509Group,
  okPlan,
} from './fixtures.js';

let p: Pki;
beforeAll(async () => {
  p = await pki();
});

const devicesOf = (groupId: string, ...devices: (string | DeviceChoice)[]) =>
  ({
    kind: 'groupDevices',
    groupId,
    devices: devices.map((d) => (typeof d === 'string' ? { registrationId: d } : d)),
  }) as const;

const symState = (extra: Partial<KnownState> = {}): KnownState =>
  state({
    enrollmentGroups: [symmetricKeyGroup('g-sym')],
    registrations: [record('s1', 'g-sym'), record('s2', 'g-sym', HUB_US), record('s3', 'g-sym')],
    ...extra,
  });

const x509State = (extra: Partial<KnownState> = {}): KnownState =>
  state({
    enrollmentGroups: [x509Group('g-int', [p.intermediateInfo]), x509Group('g-root', [p.rootInfo])],
    registrations: [record('dev-x1', 'g-int'), record('dev-x2', 'g-int')],
    ...extra,
  });

describe('one or several devices of a group', () => {
  it('symmetric-key group: a disabled symmetric-key blocker per device, hub steps only for them', () => {
    // The disenroll choice is ignored: one device of a group always gets a disabled blocker.
    const plan = okPlan(
      planDeprovision(devicesOf('g-sym', 's1', 's2', 's1'), actions({ disenroll: 'delete' }), symState(), {
        runId: 'run-1',
      }),
    );
    expect(plan.steps.map((s) => `${s.id} ${s.call}`)).toEqual([
      'snapshot:1 journal 2 registration records of enrollmentGroups/g-sym ' +
        '(read before any change; no service call)',
      'disenroll:1 PUT enrollments/s1 (new, provisioningStatus=disabled, symmetric key blocker)',
      'disenroll:2 PUT enrollments/s2 (new, provisioningStatus=disabled, symmetric key blocker)',
      `deregister:1 POST devices (bulk update status=disabled, 1 device) on ${HUB_EU}`,
      `deregister:2 POST devices (bulk update status=disabled, 1 device) on ${HUB_US}`,
      'verify:1 GET enrollments, registrations and hub devices of 2 devices ' +
        '(read back, re-run the re-enrollment analysis)',
    ]);
    expect(plan.steps[1].op).toEqual({
      kind: 'createBlocker',
      registrationId: 's1',
      groupId: 'g-sym',
      attestation: 'symmetricKey',
      runId: 'run-1',
    });
    expect(plan.steps[1].registrationIds).toEqual(['s1']);
    expect(plan.steps.filter((s) => s.phase === 'deregister').flatMap((s) => s.registrationIds)).toEqual([
      's1',
      's2',
    ]);
    expect(plan.warnings).toMatchObject([
      { code: 'symmetric-key-group-device', severity: 'info', registrationIds: ['s1', 's2'] },
    ]);
    expect(plan.snapshot.map((r) => r.registrationId)).toEqual(['s1', 's2']);
    expect(plan.counts.devices).toBe(2);
  });

  it('X.509 group with the device certificate: an X.509 blocker carrying it', () => {
    const plan = okPlan(
      planDeprovision(
        devicesOf('g-int', { registrationId: 'dev-x1', certificatePem: p.chain1.chainPem }),
        actions(),
        x509State(),
      ),
    );
    const blocker = plan.steps.find((s) => s.phase === 'disenroll')!;
    expect(blocker.call).toBe(
      'PUT enrollments/dev-x1 (new, provisioningStatus=disabled, X.509 blocker from the device certificate)',
    );
    expect(blocker.op).toMatchObject({
      kind: 'createBlocker',
      attestation: 'x509',
      certificatePem: p.chain1.chainPem,
    });
    expect(plan.warnings).toEqual([]);
    // Simulated: the blocker is disabled and carries the leaf; DPS would refuse the device.
    const after = applyPlan(x509State(), plan);
    const written = after.individualEnrollments.find((e) => e.registrationId === 'dev-x1')!;
    expect(written).toMatchObject({ provisioningStatus: 'disabled', blocker: { groupId: 'g-int' } });
    expect(written.attestation).toMatchObject({
      type: 'x509',
      clientCertificates: [{ subjectName: 'CN=dev-x1' }],
    });
    expect(analyzeReenrollment({ registrationId: 'dev-x1', groupId: 'g-int' }, after).verdict).toBe(
      'blocked',
    );
  });

  it('X.509 group without a certificate: a symmetric-key blocker by registration ID', () => {
    const plan = okPlan(planDeprovision(devicesOf('g-int', 'dev-x2'), actions(), x509State()));
    expect(plan.steps.find((s) => s.phase === 'disenroll')!.op).toMatchObject({
      attestation: 'symmetricKey',
    });
    // Said plainly: the fallback, and how to get an X.509 blocker instead.
    expect(plan.warnings).toMatchObject([
      { code: 'key-blocker-for-x509-device', severity: 'caution', registrationIds: ['dev-x2'] },
    ]);
    expect(plan.warnings[0]!.recommendation).toContain('--device-cert');
  });

  it('an existing disabled individual enrollment: no blocker written, noted as already blocked', () => {
    const s = x509State({ individualEnrollments: [individual('dev-x1', 'x509', 'disabled')] });
    const plan = okPlan(planDeprovision(devicesOf('g-int', 'dev-x1'), actions(), s));
    expect(plan.counts.steps.disenroll).toBe(0);
    expect(plan.warnings).toMatchObject([
      { code: 'existing-individual-enrollment', severity: 'info', registrationIds: ['dev-x1'] },
    ]);
  });

  it('an existing enabled individual enrollment is disabled instead, with a warning', () => {
    const s = x509State({ individualEnrollments: [individual('dev-x1', 'x509')] });
    const plan = okPlan(planDeprovision(devicesOf('g-int', 'dev-x1'), actions(), s));
    expect(plan.steps.filter((st) => st.phase === 'disenroll').map((st) => st.call)).toEqual([
      'PUT enrollments/dev-x1 provisioningStatus=disabled',
    ]);
    expect(plan.warnings).toMatchObject([
      { code: 'existing-individual-enrollment', severity: 'caution', registrationIds: ['dev-x1'] },
    ]);
    expect(plan.warnings[0].recommendation).toMatch(/Never delete it/);
  });

  describe('refusals', () => {
    it('a certificate for another device (CN differs from the registration ID)', () => {
      const r = planDeprovision(
        devicesOf('g-int', { registrationId: 'dev-x1', certificatePem: p.chain2.chainPem }),
        actions(),
        x509State(),
      );
      expect(r).toMatchObject({ ok: false, refusal: { code: 'wrong-attestation' } });
      expect(!r.ok && r.refusal.message).toMatch(/belongs to "dev-x2"/);
    });

    it('a certificate for a device of a symmetric-key group', () => {
      const r = planDeprovision(
        devicesOf('g-sym', { registrationId: 's1', certificatePem: p.chain1.chainPem }),
        actions(),
        symState(),
      );
      expect(r).toMatchObject({ ok: false, refusal: { code: 'wrong-attestation' } });
    });

    it('a certificate that is not one', () => {
      const r = planDeprovision(
        devicesOf('g-int', { registrationId: 'dev-x1', certificatePem: 'oops' }),
        actions(),
        x509State(),
      );
      expect(r).toMatchObject({ ok: false, refusal: { code: 'invalid-selection' } });
      expect(!r.ok && r.refusal.message).toBe(
        'The certificate given for dev-x1 cannot be used: ' +
          'the file does not contain a PEM certificate (-----BEGIN CERTIFICATE-----).',
      );
    });

    it('a registration ID without a record in the group is named', () => {
      const r = planDeprovision(devicesOf('g-sym', 's1', 'ghost'), actions(), symState());
      expect(r).toMatchObject({ ok: false, refusal: { code: 'unknown-target' } });
      expect(!r.ok && r.refusal.message).toMatch(
        /^ghost has no registration record in enrollment group g-sym/,
      );
    });

    it('no device chosen, or an unknown group', () => {
      expect(planDeprovision(devicesOf('g-sym'), actions(), symState())).toMatchObject({
        ok: false,
        refusal: { code: 'no-devices' },
      });
      expect(planDeprovision(devicesOf('nope', 's1'), actions(), symState())).toMatchObject({
        ok: false,
        refusal: { code: 'unknown-target' },
      });
    });
  });
});

describe('a device certificate that looks wrong: the X.509 blocker is still written, the plan says why', () => {
  const withCert = (pem: string, now: Date) =>
    okPlan(
      planDeprovision(
        devicesOf('g-int', { registrationId: 'dev-x1', certificatePem: pem }),
        actions(),
        x509State(),
        {
          now,
        },
      ),
    );
  const odd = (plan: ReturnType<typeof withCert>) =>
    plan.warnings.filter((w) => w.code === 'device-certificate-odd');
  const blocker = (plan: ReturnType<typeof withCert>) =>
    plan.steps.find((s) => s.op.kind === 'createBlocker')?.op;

  it('a valid certificate of the group: no such warning', () => {
    expect(odd(withCert(p.chain1.chainPem, new Date()))).toEqual([]);
  });

  it('expired', () => {
    const plan = withCert(p.chain1.chainPem, new Date('2200-01-01T00:00:00Z'));
    expect(odd(plan)).toHaveLength(1);
    expect(odd(plan)[0]?.message).toMatch(/dev-x1 looks wrong: it expired on \d{4}-\d\d-\d\d/);
    expect(odd(plan)[0]?.registrationIds).toEqual(['dev-x1']);
    expect(blocker(plan)).toMatchObject({ kind: 'createBlocker', attestation: 'x509' });
  });

  it('not yet valid', () => {
    const plan = withCert(p.chain1.chainPem, new Date('2000-01-01T00:00:00Z'));
    expect(odd(plan)[0]?.message).toMatch(/it is not valid before \d{4}-\d\d-\d\d/);
    expect(blocker(plan)).toMatchObject({ kind: 'createBlocker', attestation: 'x509' });
  });

  it('issued by a CA that is none of the group certificates', async () => {
    const stranger = await cachedChain('stranger', {
      leafCn: 'dev-x1',
      rootCn: 'Other Root',
      intermediateCn: 'Other CA',
    });
    const plan = withCert(stranger.chainPem, new Date());
    expect(odd(plan)[0]?.message).toMatch(/its issuer \(CN=Other CA\) is none of the group's certificates/);
    expect(blocker(plan)).toMatchObject({
      kind: 'createBlocker',
      attestation: 'x509',
      certificatePem: stranger.chainPem,
    });
  });
});
