import { afterEach, describe, expect, it } from 'vitest';
import type { PlanWarning } from '../../src/core/plan-types.js';
import { FakeBackend, type FakeData } from '../support/fake-backend.js';
import { demoData, deviceRow } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, until, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

async function openEnrollments(data: FakeData = demoData()) {
  const backend = new FakeBackend(data);
  t = await renderApp(backend, { routes: [{ screen: 'target' }, { screen: 'enrollments' }] });
  await waitForText(t, 'dev-tpm-1');
  return { backend, t };
}

async function openGroup(groupId = 'g1', data: FakeData = demoData()) {
  const r = await openEnrollments(data);
  await press(r.t, KEYS.tab);
  await press(r.t, `/${groupId}`);
  await press(r.t, KEYS.enter);
  await press(r.t, KEYS.enter);
  await waitForText(r.t, `Enrollment group ${groupId}`);
  await waitForText(r.t, 'marked');
  return r;
}

describe('target screen', () => {
  it('badges the sandbox, names the auth per service and highlights hubs without credentials', async () => {
    t = await renderApp(new FakeBackend(demoData()));
    const f = frame(t);
    expect(f).toContain('[SANDBOX]');
    expect(f).toContain('sandbox-dps.azure-devices-provisioning.net   auth: connection string');
    expect(f).toMatch(/! hub-us\.azure-devices\.net\s+NO CREDENTIALS/);
    expect(f).toContain('IoT hubs (2): 1 without credentials');
    await press(t, KEYS.enter);
    await waitForText(t, 'Target > Enrollments');
  });

  it('shows the Azure target without the sandbox badge', async () => {
    t = await renderApp(new FakeBackend({ ...demoData(), target: { kind: 'azure', endpoint: undefined } }));
    expect(frame(t)).not.toContain('[SANDBOX]');
    expect(frame(t)).toContain('AZURE: changes made here affect real devices.');
  });
});

describe('enrollments screen', () => {
  it('switches between the individual and group tabs with Tab and the arrows', async () => {
    const { t } = await openEnrollments();
    expect(frame(t)).toContain('[ Individual (3) ]');
    await press(t, KEYS.tab);
    expect(frame(t)).toContain('[ Groups (2) ]');
    expect(frame(t)).toMatch(/g1\s+X\.509 CA\s+enabled\s+3/);
    expect(frame(t)).not.toContain('dev-tpm-1');
    await press(t, KEYS.left);
    expect(frame(t)).toContain('[ Individual (3) ]');
    await press(t, KEYS.right);
    expect(frame(t)).toContain('[ Groups (2) ]');
  });

  it('filters as you type, shows "N of M", and Esc clears the filter', async () => {
    const { t } = await openEnrollments();
    await press(t, '/x509');
    expect(frame(t)).toContain('Filter: x509');
    expect(frame(t)).toContain('1 of 3');
    expect(frame(t)).toContain('dev-x509-2');
    expect(frame(t)).not.toContain('dev-tpm-1');
    await press(t, KEYS.backspace);
    await press(t, KEYS.backspace);
    await press(t, KEYS.backspace);
    await press(t, KEYS.backspace);
    expect(frame(t)).toContain('3 of 3');
    await press(t, 'sym');
    expect(frame(t)).toContain('1 of 3');
    await press(t, KEYS.escape);
    expect(frame(t)).toContain('3 of 3');
    expect(frame(t)).toContain('dev-tpm-1');
    // With no filter left, Esc goes back.
    await press(t, KEYS.escape);
    await waitForText(t, 'IoT hubs (2)');
  });

  it('keeps a filter after Enter, and Enter then opens the highlighted match', async () => {
    const { t } = await openEnrollments();
    await press(t, '/sym');
    await press(t, KEYS.enter);
    expect(frame(t)).toContain('filter "sym" (Esc clears)');
    await press(t, KEYS.enter);
    await waitForText(t, 'Individual enrollment dev-sym-3');
    expect(frame(t)).toContain('Enrollments > dev-sym-3 > Devices');
  });

  it('says what failed when DPS cannot be read', async () => {
    const backend = new FakeBackend(demoData());
    backend.listGroups = async () => {
      throw new Error('DPS answered 401 Unauthorized');
    };
    t = await renderApp(backend, { routes: [{ screen: 'enrollments' }] });
    await waitForText(t, 'Could not read the enrollments: DPS answered 401 Unauthorized');
    expect(frame(t)).toContain('Press r to try again');
  });
});

describe('devices screen', () => {
  it('lists registration records with device ID, hub, DPS status, hub status and last update', async () => {
    const data = demoData();
    const c = data.devices!.g1![2]!;
    data.devices!.g1![2] = { ...c, record: { ...c.record, deviceId: 'meter-c' } };
    const { t } = await openGroup('g1', data);
    expect(frame(t)).toMatch(/\[ \] g1-dev-c\s+meter-c\s+hub-us\s+assigned\s+enabled\s+2024-05-01 12:03/);
    expect(frame(t)).toMatch(/\[ \] g1-dev-a\s+\(same\)\s+hub-eu/);
    expect(frame(t)).toContain('row 1 · 0 marked · g1-dev-a');
    expect(frame(t)).toContain('Enter: continue with the whole group (3 devices)');
  });

  it('marks devices with Space and all/none with a, and continues with the marked ones', async () => {
    const { t, backend } = await openGroup();
    await press(t, ' ');
    expect(frame(t)).toContain('[x] g1-dev-a');
    expect(frame(t)).toContain('1 marked');
    await press(t, 'a');
    expect(frame(t)).toContain('3 marked');
    await press(t, 'a');
    expect(frame(t)).toContain('0 marked');
    await press(t, KEYS.down);
    await press(t, ' ');
    expect(frame(t)).toContain('[x] g1-dev-b');
    expect(frame(t)).toContain('[ ] g1-dev-a');
    await press(t, KEYS.enter);
    await waitForText(t, '1 marked device (a disabled blocker enrollment each)');
    await until(() => backend.planCalls.length > 0, 'a plan call', t);
    expect(backend.planCalls[0]?.selection).toEqual({
      kind: 'groupDevices',
      groupId: 'g1',
      devices: [{ registrationId: 'g1-dev-b' }],
    });
  });

  it('continues with the whole group when nothing is marked', async () => {
    const { t, backend } = await openGroup();
    await press(t, KEYS.enter);
    await waitForText(t, 'the whole group (3 devices)');
    await until(() => backend.planCalls.length > 0, 'a plan call', t);
    expect(backend.planCalls[0]?.selection).toEqual({ kind: 'group', groupId: 'g1' });
  });

  it('marks only the filtered rows with a', async () => {
    const data = demoData();
    data.devices = { g1: [deviceRow('north-1'), deviceRow('north-2'), deviceRow('south-1')] };
    const { t } = await openGroup('g1', data);
    await press(t, '/north');
    await press(t, KEYS.enter);
    await press(t, 'a');
    expect(frame(t)).toContain('2 marked');
    await press(t, KEYS.escape);
    expect(frame(t)).toContain('[ ] south-1');
    expect(frame(t)).toContain('[x] north-2');
  });
});

describe('permanence screen', () => {
  const reenroll: PlanWarning = {
    code: 'reenroll-through-group',
    severity: 'danger',
    message: 'Deleting this enrollment lets the device provision again through enabled group root-ca.',
    recommendation: 'Disable the enrollment instead of deleting it.',
    registrationIds: ['dev-x509-2'],
  };

  it('starts on the safe defaults and re-plans with each change, showing danger warnings', async () => {
    const data = demoData();
    data.warnings = (_s, a) => (a.disenroll === 'delete' ? [reenroll] : []);
    const { t, backend } = await openEnrollments(data);
    await press(t, KEYS.down);
    await press(t, KEYS.enter);
    await waitForText(t, 'Individual enrollment dev-x509-2');
    await press(t, KEYS.enter);
    await waitForText(t, 'No warnings for these choices.');
    expect(frame(t)).toMatch(/› DPS \(disenroll\)\s+‹ disable: temporary, can be undone \(default\) ›/);
    expect(frame(t)).toContain('Hub (deregister)      ‹ disable: temporary');
    expect(backend.planCalls.at(-1)?.actions).toEqual({
      disenroll: 'disable',
      deregister: 'disable',
      deleteRegistrations: false,
      deleteGroup: false,
    });
    await press(t, KEYS.right);
    await waitForText(t, '! DANGER: Deleting this enrollment lets the device provision again');
    expect(frame(t)).toContain('Recommended: Disable the enrollment instead of deleting it.');
    expect(frame(t)).toContain('‹ DELETE: permanent ›');
    expect(frame(t)).toContain('! Permanent actions chosen');
    expect(backend.planCalls.at(-1)?.actions.disenroll).toBe('delete');
    await press(t, KEYS.down);
    await press(t, ' ');
    await press(t, ' ');
    await until(() => backend.planCalls.at(-1)?.actions.deregister === 'none', 'deregister none', t);
    expect(frame(t)).toContain('none: keep the identity');
  });

  it('offers the cleanup choices (off by default) only for a whole group', async () => {
    const { t, backend } = await openGroup();
    await press(t, KEYS.enter);
    await waitForText(t, 'Registration records');
    expect(frame(t)).toMatch(/Registration records\s+‹ keep \(default\) ›/);
    expect(frame(t)).toMatch(/Enrollment group\s+‹ disable: temporary, can be undone \(default\) ›/);
    await press(t, 'jj ');
    await until(() => backend.planCalls.at(-1)?.actions.deleteRegistrations === true, 'delete records', t);
    expect(frame(t)).toContain('DELETE: permanent (the run journal keeps a copy)');
  });
});

describe('help overlay', () => {
  it('lists every key of the current screen and closes with ?', async () => {
    const { t } = await openGroup();
    await press(t, '?');
    const f = frame(t);
    expect(f).toContain('Keys on this screen');
    for (const key of ['Space', 'mark all / none', 'PgUp/PgDn', 'Home/End g/G', 'Ctrl-C', 'Esc']) {
      expect(f).toContain(key);
    }
    await press(t, '?');
    expect(frame(t)).not.toContain('Keys on this screen');
    expect(frame(t)).toContain('g1-dev-a');
  });
});

describe('quit', () => {
  it('q quits at once when no run is going, with nothing changed', async () => {
    const { t } = await openEnrollments();
    await press(t, 'q');
    await until(() => t.outcome() !== undefined, 'exit', t);
    expect(t.outcome()).toEqual({ summary: undefined });
  });
});
