/**
 * The Devices screen of a group acts on what it shows: with a filter on and nothing marked, Enter takes
 * exactly the devices the filter shows (a blocker each), and says so before anything else is chosen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBackend, type FakeData } from '../support/fake-backend.js';
import { demoData, deviceRow } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, until, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

/** Group g1 with `n` devices: north-0001.., and three south-* among them. */
function bigGroup(n = 40): FakeData {
  const data = demoData();
  const rows = Array.from({ length: n }, (_, i) => deviceRow(`north-${String(i + 1).padStart(4, '0')}`));
  rows.splice(7, 0, deviceRow('south-a'), deviceRow('south-b'), deviceRow('south-c'));
  data.devices = { ...data.devices, g1: rows };
  data.groups = data.groups!.map((g) =>
    g.enrollmentGroupId === 'g1' ? { ...g, deviceCount: rows.length } : g,
  );
  return data;
}

async function openGroup(data: FakeData, size = { columns: 80, rows: 24 }) {
  const backend = new FakeBackend(data);
  t = await renderApp(backend, { size, routes: [{ screen: 'target' }, { screen: 'enrollments' }] });
  await waitForText(t, 'dev-tpm-1');
  await press(t, KEYS.tab);
  await press(t, '/g1');
  await press(t, KEYS.enter);
  await press(t, KEYS.enter);
  await waitForText(t, 'Enrollment group g1');
  await waitForText(t, 'marked');
  return { backend, t };
}

describe('what you see is what you act on', () => {
  it('filter to 3 of 43, Enter: the plan covers those 3 only, and the count is on screen before the review', async () => {
    const { backend, t } = await openGroup(bigGroup());
    await press(t, '/south');
    await press(t, KEYS.enter);
    expect(frame(t)).toContain('3 of 43');
    expect(frame(t)).toMatch(
      /Enter: continue with the 3 devices shown only \(a disabled blocker each\), not the\s+whole group of 43\. Esc clears the filter\./,
    );
    await press(t, KEYS.enter);
    await waitForText(t, 'the 3 devices shown by the filter "south"');
    await until(() => backend.planCalls.length > 0, 'a plan call', t);
    expect(backend.planCalls.at(-1)?.selection).toEqual({
      kind: 'groupDevices',
      groupId: 'g1',
      devices: [{ registrationId: 'south-a' }, { registrationId: 'south-b' }, { registrationId: 'south-c' }],
    });
    await press(t, KEYS.enter);
    await waitForText(t, 'Run it? y: yes');
    expect(frame(t)).toContain('Devices: 3 on 1 hub: hub-eu 3');
    await press(t, 'y');
    await waitForText(t, 'Latest results:');
    expect(backend.lastRun.plan.selection).toEqual(backend.planCalls.at(-1)?.selection);
  });

  it('a filter that shows nothing: Enter does nothing, and the screen says why', async () => {
    const { backend, t } = await openGroup(bigGroup());
    await press(t, '/nowhere');
    await press(t, KEYS.enter);
    expect(frame(t)).toContain('Nothing matches the filter, so there is nothing to continue with.');
    await press(t, KEYS.enter);
    expect(frame(t)).toContain('Enrollment group g1');
    expect(backend.planCalls).toEqual([]);
  });

  it('marked devices win over the filter, and those the filter hides are counted', async () => {
    const { backend, t } = await openGroup(bigGroup());
    await press(t, ' ');
    await press(t, '/south');
    await press(t, KEYS.enter);
    await press(t, ' ');
    expect(frame(t)).toContain(
      'Enter: continue with the 2 marked devices only (1 of them hidden by the filter).',
    );
    await press(t, KEYS.enter);
    await until(() => backend.planCalls.length > 0, 'a plan call', t);
    expect(backend.planCalls.at(-1)?.selection).toMatchObject({
      kind: 'groupDevices',
      devices: [{ registrationId: 'north-0001' }, { registrationId: 'south-a' }],
    });
  });
});

describe('a device with a blocker', () => {
  it('shows as blocked in its group list (a disabled individual enrollment with its registration ID)', async () => {
    const data = demoData();
    data.enrollments = [
      ...(data.enrollments ?? []),
      {
        registrationId: 'g1-dev-b',
        attestation: { type: 'symmetricKey' },
        provisioningStatus: 'disabled',
        blocker: { groupId: 'g1' },
      },
    ];
    const { t } = await openGroup(data);
    await waitForText(t, '1 blocked');
    expect(frame(t)).toMatch(/\[ \] g1-dev-b\s+\(same\)\s+hub-eu\s+blocked\s+enabled/);
    expect(frame(t)).toMatch(/\[ \] g1-dev-a\s+\(same\)\s+hub-eu\s+assigned\s+enabled/);
    await press(t, KEYS.down);
    expect(frame(t)).toContain('g1-dev-b: blocked (disabled enrollment)');
  });
});
