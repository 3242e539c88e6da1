import { afterEach, describe, expect, it } from 'vitest';
import { planDeprovision } from '../../src/core/plan.js';
import { type Actions, SAFE_ACTIONS } from '../../src/core/selection.js';
import { planLines } from '../../src/screens/components/plan-lines.js';
import { selectionInfo } from '../../src/screens/DevicesScreen.js';
import type { Route } from '../../src/screens/routes.js';
import { FakeBackend, type FakeData } from '../support/fake-backend.js';
import { demoData } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, until, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

const data = demoData();
const groupInfo = selectionInfo({ kind: 'group', group: data.groups![0]! }, data.devices!.g1!, []);
const x509Info = selectionInfo({ kind: 'enrollment', enrollment: data.enrollments![1]! }, [], []);

async function openReview(info = groupInfo, actions: Actions = SAFE_ACTIONS, extra: Partial<FakeData> = {}) {
  const backend = new FakeBackend({ ...demoData(), ...extra });
  const routes: Route[] = [
    { screen: 'enrollments' },
    { screen: 'permanence', info },
    { screen: 'review', info, actions },
  ];
  t = await renderApp(backend, { routes });
  await until(() => !frame(t as DrivenApp).includes('planning…'), 'the plan', t);
  return { backend, t };
}

describe('review screen', () => {
  it('shows the steps with their calls, counts per phase and per hub, and the warnings', async () => {
    const { t } = await openReview(groupInfo, SAFE_ACTIONS, {
      warnings: () => [
        {
          code: 'hub-without-credentials',
          severity: 'caution',
          message: 'One device is on hub-us, for which the tool has no credentials.',
          registrationIds: ['g1-dev-c'],
        },
      ],
    });
    const f = frame(t);
    expect(f).toContain('Plan for enrollment group g1: the whole group (3 devices)');
    expect(f).toContain('group: disable · hub: disable · registration records: keep');
    expect(f).toContain('Steps: snapshot 1 · disenroll 1 · deregister 3 · cleanup 0 · verify 1 (6 in all)');
    expect(f).toContain('Devices: 3 on 2 hubs: hub-eu 2 · hub-us 1');
    expect(f).toContain('* CAUTION: One device is on hub-us');
    expect(f).toContain('PUT enrollmentGroups/g1 provisioningStatus=disabled');
    expect(f).toContain('disableHubDevices hub-us.azure-devices.net/devices/g1-dev-c');
  });

  it('asks y/n when every action can be undone: n goes back, y starts the run', async () => {
    const { t, backend } = await openReview();
    expect(frame(t)).toContain('Run it? y: yes');
    await press(t, 'n');
    await waitForText(t, 'Enter: review the plan');
    await press(t, KEYS.enter);
    await waitForText(t, 'Run it? y: yes');
    await press(t, 'y');
    await waitForText(t, 'Latest results:');
    expect(backend.runs).toHaveLength(1);
    expect(backend.lastRun.plan.selection).toEqual({ kind: 'group', groupId: 'g1' });
  });

  it('needs the exact ID typed for a permanent action; a wrong ID does not confirm', async () => {
    const actions: Actions = { ...SAFE_ACTIONS, disenroll: 'delete' };
    const { t, backend } = await openReview(x509Info, actions);
    expect(frame(t)).toContain('! PERMANENT. Type dev-x509-2 and press Enter to confirm');
    expect(frame(t)).toMatch(/! disenroll\s+deleteEnrollment enrollments\/dev-x509-2/);
    await press(t, 'y');
    await press(t, KEYS.enter);
    expect(frame(t)).toContain('That does not match dev-x509-2');
    await press(t, KEYS.backspace);
    await press(t, 'DEV-X509-2\r');
    expect(frame(t)).toContain('That does not match dev-x509-2');
    expect(backend.runs).toHaveLength(0);
    for (let i = 0; i < 'DEV-X509-2'.length; i++) await press(t, KEYS.backspace);
    await press(t, 'dev-x509-');
    expect(frame(t)).toContain('> dev-x509-▌');
    await press(t, '2\r');
    await waitForText(t, 'Latest results:');
    expect(backend.runs).toHaveLength(1);
    expect(backend.lastRun.plan.actions.disenroll).toBe('delete');
  });

  it('shows a refusal with its message and no way forward but back', async () => {
    const { t, backend } = await openReview(
      x509Info,
      { ...SAFE_ACTIONS, disenroll: 'delete' },
      {
        refuse: () => ({
          code: 'delete-blocker',
          message: 'dev-x509-2 is a blocker enrollment; the tool never deletes one.',
        }),
      },
    );
    expect(frame(t)).toContain('The tool will not do this: dev-x509-2 is a blocker enrollment');
    expect(frame(t)).toContain('Nothing can run. Esc: go back');
    await press(t, 'dev-x509-2\r');
    await press(t, 'y');
    expect(backend.runs).toHaveLength(0);
    await press(t, KEYS.escape);
    await waitForText(t, 'Enter: review the plan');
  });

  it('scrolls a long plan with the arrows and PgDn', async () => {
    const many = demoData();
    many.devices!.g1 = Array.from({ length: 40 }, () => many.devices!.g1![0]!).map((r, i) => ({
      ...r,
      record: { ...r.record, registrationId: `d${i}`, deviceId: `d${i}` },
    }));
    const { t } = await openReview(groupInfo, SAFE_ACTIONS, many);
    expect(frame(t)).not.toContain('devices/d39');
    await press(t, KEYS.end);
    expect(frame(t)).toContain('devices/d39');
    await press(t, KEYS.home);
    expect(frame(t)).toContain('Plan for enrollment group g1');
    await press(t, KEYS.pageDown);
    expect(frame(t)).not.toContain('Plan for enrollment group g1');
    await until(() => frame(t as DrivenApp).includes('lines '), 'the position line', t);
  });
});

describe('review lines: hub identities', () => {
  it('names per hub how many identities the plan deregisters, by record and by lookup, and a hub not looked up', () => {
    const eu = 'hub-eu.azure-devices.net';
    const us = 'hub-us.azure-devices.net';
    const asia = 'hub-asia.azure-devices.net';
    const result = planDeprovision({ kind: 'group', groupId: 'g1' }, SAFE_ACTIONS, {
      individualEnrollments: [],
      enrollmentGroups: [
        { enrollmentGroupId: 'g1', attestation: { type: 'symmetricKey' }, provisioningStatus: 'enabled' },
      ],
      registrations: [{ registrationId: 'd1', status: 'disabled', assignedHub: eu, enrollmentGroupId: 'g1' }],
      hubDevices: [{ hub: us, deviceId: 'd1', status: 'enabled' }],
      hubsWithCredentials: [eu, us, asia],
      hubLookup: { searched: [eu, us], skipped: [{ hub: asia, why: 'asked' }], cost: {}, deviceIds: 1 },
    });
    if (!result.ok) throw new Error(result.refusal.message);
    const text = planLines(groupInfo, result.plan, 200).map((l) => l.text);
    expect(text).toContain(
      'Hub identities: hub-eu 1 by record + 0 by lookup · hub-us 0 by record + 1 by lookup · hub-asia 0 by record + 0 by lookup, NOT looked up',
    );
  });
});
