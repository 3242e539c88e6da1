/**
 * The Permanence screen and the review header against the real planner: one control per decision, no
 * two settings with the same plan, a header that says what the steps do, and advice that names the
 * control on screen (never a CLI flag).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KnownState } from '../../src/core/model.js';
import { planDeprovision } from '../../src/core/plan.js';
import { type Actions, SAFE_ACTIONS } from '../../src/core/selection.js';
import { type AnyChoice, choicesFor } from '../../src/screens/choices.js';
import { actionsText } from '../../src/screens/components/plan-lines.js';
import { selectionInfo } from '../../src/screens/DevicesScreen.js';
import { FakeBackend } from '../support/fake-backend.js';
import { individual, record, state, x509Group } from '../core/fixtures.js';
import { demoData } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, until, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

const HUB = 'hub-eu.azure-devices.net';
const g1State = (): KnownState =>
  state({
    enrollmentGroups: [x509Group('g1', [], 'enabled', ['root-ca'])],
    registrations: [record('g1-dev-a', 'g1'), record('g1-dev-b', 'g1')],
    hubsWithCredentials: [HUB],
  });
const data = demoData();
const groupInfo = selectionInfo(
  { kind: 'group', group: data.groups![0]! },
  data.devices!.g1!.slice(0, 2),
  [],
);

/** Every setting of the controls, as the screen would send it to the planner. */
function settings(choices: AnyChoice[]): Actions[] {
  let all: Actions[] = [SAFE_ACTIONS];
  for (const c of choices) {
    all = all.flatMap((a) => c.options.map((o) => ({ ...a, [c.key]: o.value }) as Actions));
  }
  return all;
}

/** A screen backend whose plans come from the real planner on `known`. */
function realBackend(known: KnownState): FakeBackend {
  const backend = new FakeBackend(demoData());
  backend.plan = async (selection, actions) => {
    backend.planCalls.push({ selection, actions });
    return planDeprovision(selection, actions, known);
  };
  return backend;
}

describe('one control per decision', () => {
  it('for a whole group, no two settings of the controls give the same plan', () => {
    const seen = new Map<string, Actions>();
    for (const a of settings(choicesFor(groupInfo))) {
      const r = planDeprovision(groupInfo.selection, a, g1State());
      if (!r.ok) throw new Error(r.refusal.message);
      const key = r.plan.steps.map((s) => s.call).join('\n');
      expect(seen.get(key), `${JSON.stringify(a)} plans the same as another setting`).toBeUndefined();
      seen.set(key, a);
    }
  });

  it('the header says what the steps do, whatever asked for them', () => {
    // `--disenroll delete` on the command line deletes a group as `--delete-group` does.
    for (const a of [
      { ...SAFE_ACTIONS, disenroll: 'delete' as const },
      { ...SAFE_ACTIONS, deleteGroup: true },
      SAFE_ACTIONS,
    ]) {
      const r = planDeprovision(groupInfo.selection, a, g1State());
      if (!r.ok) throw new Error(r.refusal.message);
      const deletes = r.plan.steps.some((s) => s.call === 'DELETE enrollmentGroups/g1');
      const header = actionsText(groupInfo, r.plan);
      expect(
        header.startsWith(deletes ? 'group: disable now, DELETE after the hubs' : 'group: disable ·'),
        header,
      ).toBe(true);
      expect(header).not.toContain('keep ·');
    }
  });

  it('the screen: the group is one control; DELETE reaches the review as a group deletion, named in its header', async () => {
    const backend = realBackend(g1State());
    t = await renderApp(backend, {
      routes: [{ screen: 'enrollments' }, { screen: 'permanence', info: groupInfo }],
    });
    await waitForText(t, 'No warnings for these choices.');
    expect(frame(t)).not.toContain('DPS (disenroll)');
    expect(frame(t)).toMatch(/› Enrollment group\s+‹ disable: temporary, can be undone \(default\) ›/);
    await press(t, KEYS.right);
    await until(() => backend.planCalls.at(-1)?.actions.deleteGroup === true, 'a plan deleting the group', t);
    expect(frame(t)).toContain('DELETE: permanent (disabled now, deleted last)');
    await press(t, KEYS.enter);
    await waitForText(t, '! PERMANENT');
    expect(frame(t)).toContain(
      'group: disable now, DELETE after the hubs · hub: disable · registration records: keep',
    );
    expect(frame(t)).toMatch(/! cleanup\s+DELETE enrollmentGroups\/g1/);
  });
});

describe('advice inside the TUI', () => {
  it('names the control on screen, never a CLI flag', async () => {
    const backend = realBackend(g1State());
    t = await renderApp(backend, {
      routes: [{ screen: 'enrollments' }, { screen: 'permanence', info: groupInfo }],
    });
    await waitForText(t, 'No warnings for these choices.');
    // Hub: none -> the planner recommends disabling the hub identities.
    await press(t, KEYS.down);
    await press(t, KEYS.left);
    await waitForText(t, 'are kept');
    expect(frame(t)).toContain('Recommended: Choose "Hub (deregister): disable" (reversible)');
    expect(frame(t)).not.toContain('--deregister');
    // Group: DELETE with the records kept -> the planner recommends deleting them first.
    await press(t, KEYS.up);
    await press(t, ' ');
    await waitForText(t, 'orphaned records');
    expect(frame(t)).toContain('Choose "Registration records: DELETE" to delete them first.');
    expect(frame(t)).not.toContain('--delete-registrations');
  });
});

describe('an IoT Edge gateway on the Permanence screen', () => {
  const GW = 'edge-gw-01';
  const gwState = (): KnownState =>
    state({
      individualEnrollments: [individual(GW, 'symmetricKey')],
      registrations: [record(GW)],
      hubDevices: [
        { hub: HUB, deviceId: GW, status: 'enabled', iotEdge: true, deviceScope: 'ms-azure-iot-edge://gw' },
      ],
      hubsWithCredentials: [HUB],
      edgeGateways: [{ hub: HUB, deviceId: GW, children: ['plc-1', 'plc-2'], modules: ['$edgeAgent'] }],
    });
  const gwInfo = selectionInfo(
    { kind: 'enrollment', enrollment: individual(GW, 'symmetricKey') },
    [{ record: record(GW) }],
    [],
  );

  it('offers to include its children (the same hub action) or leave them, and the plan follows the control', async () => {
    const backend = realBackend(gwState());
    t = await renderApp(backend, {
      routes: [{ screen: 'enrollments' }, { screen: 'permanence', info: gwInfo }],
    });
    await waitForText(t, 'is an IoT Edge gateway with 2 child devices');
    expect(frame(t)).toMatch(/IoT Edge children\s+‹ leave them as they are \(default\) ›/);
    // The advice names the control on screen, not the command-line flag.
    expect(frame(t)).toContain('choose "IoT Edge children: include"');
    expect(frame(t)).not.toContain('--include-children');
    // DPS, Hub, then the Edge control.
    await press(t, KEYS.down);
    await press(t, KEYS.down);
    await press(t, KEYS.right);
    await until(
      () => backend.planCalls.at(-1)?.actions.includeChildren === true,
      'a plan with the children',
      t,
    );
    await waitForText(t, 'will be disabled with it');
    const last = backend.planCalls.at(-1);
    const r = planDeprovision(gwInfo.selection, last?.actions ?? SAFE_ACTIONS, gwState());
    if (!r.ok) throw new Error(r.refusal.message);
    expect(
      r.plan.steps.some((s) => s.op.kind === 'disableHubDevices' && s.op.deviceIds.includes('plc-1')),
    ).toBe(true);
    // Hub: none leaves no children to include: the control goes, and the choice with it.
    await press(t, KEYS.up);
    await press(t, KEYS.left);
    await until(
      () => backend.planCalls.at(-1)?.actions.deregister === 'none',
      'a plan keeping the hub identities',
      t,
    );
    expect(backend.planCalls.at(-1)?.actions.includeChildren).toBeUndefined();
    expect(frame(t)).not.toContain('IoT Edge children');
  });
});
