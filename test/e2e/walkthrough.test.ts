/**
 * The walkthrough end to end: the compiled program in a real 80x24 terminal, keys as a person types
 * them, and the sandbox's state file read after the program exited. The state file is the proof: the
 * group, the blocker, the devices on their own hubs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  colourCodes,
  deviceOnHub,
  highlighted,
  layoutProblems,
  openEnrollments,
  openRow,
  readState,
  startTui,
  type Tui,
} from './tui.js';

let tui: Tui | undefined;
afterEach(() => {
  tui?.close();
  tui = undefined;
});

describe('the walkthrough in a real terminal', () => {
  it('whole group, 80x24, NO_COLOR: every screen fits without colour; the group and every device end disabled', async () => {
    tui = startTui({ noColor: true });
    const { term } = tui;
    const problems: string[] = [];
    const check = (where: string) => {
      problems.push(...layoutProblems(term, 80, 24, where));
      const colours = colourCodes(term.screenWithEscapes());
      if (colours.length > 0) problems.push(`${where}: colour codes ${JSON.stringify(colours)}`);
    };

    await term.waitFor('Press Enter to choose an enrollment.', 45_000);
    check('target');
    term.send('?');
    await term.waitFor('Keys on this screen');
    check('help');
    term.send('Escape');
    await term.waitFor('Press Enter to choose an enrollment.');

    await openEnrollments(term, 'individual');
    check('individual enrollments');
    term.send('Tab');
    await term.waitFor(/\[ Groups \(\d+\) \]/);
    check('enrollment groups');
    const devices = await openRow(term, 'smart-meters-eu', /continue with the whole group \(\d+ devices\)/);
    check('devices');
    const shown = Number(/whole group \((\d+) devices\)/.exec(devices)?.[1]);
    term.send('Enter');
    await term.waitFor('Enter: review the plan');
    check('permanence');
    term.send('Enter');
    await term.waitFor('Run it? y: yes');
    check('review');
    term.send('y');
    const summary = await term.waitFor(/Run \S+ completed\./, 30_000);
    check('summary');
    expect(summary).toContain('To undo the temporary actions, run:');
    expect(summary).toMatch(/Restore re-enables what this run disabled/);
    expect(summary).toMatch(/iot-deprovision restore \S+ --yes/);
    expect(term.alternateOn()).toBe(true);
    term.send('q');
    expect(await term.exitCode()).toBe(0);
    expect(term.alternateOn()).toBe(false);
    expect(term.screen()).toMatch(/iot-deprovision: run \S+ completed: \d+ steps done, 0 failed/);
    expect(problems).toEqual([]);

    const state = readState(tui.statePath);
    const group = state.dps.groups.find((g) => g.enrollmentGroupId === 'smart-meters-eu');
    expect(group?.provisioningStatus).toBe('disabled');
    const records = state.dps.registrations.filter((r) => r.enrollment.id === 'smart-meters-eu');
    expect(records.length).toBe(shown);
    // The group's devices span the hubs: each one is disabled on its own assigned hub.
    expect(new Set(records.map((r) => r.assignedHub)).size).toBeGreaterThan(1);
    for (const r of records) {
      expect(deviceOnHub(state, r.assignedHub, r.deviceId).status, r.deviceId).toBe('disabled');
    }
  });

  it('one device of a group: a disabled blocker enrollment, that device disabled, the others untouched', async () => {
    tui = startTui();
    const { term } = tui;
    await term.waitFor('Press Enter to choose an enrollment.', 45_000);
    const before = readState(tui.statePath);
    // A control for the NO_COLOR test: this terminal does get colours.
    expect(colourCodes(term.screenWithEscapes()).length).toBeGreaterThan(0);

    await openEnrollments(term, 'groups');
    const list = await openRow(term, 'factory-line-berlin', /continue with the whole group/);
    const deviceId = /^\[ \] (\S+)/.exec(highlighted(list) ?? '')?.[1] as string;
    expect(deviceId).toBeTruthy();
    term.send('Space');
    await term.waitFor('Enter: continue with the 1 marked device only.');
    expect(highlighted(term.screen())).toContain(`[x] ${deviceId}`);
    term.send('Enter');
    await term.waitFor('Enter: review the plan');
    term.send('Enter');
    await term.waitFor('Run it? y: yes');
    term.send('y');
    await term.waitFor(/Run \S+ completed\./, 30_000);
    term.send('q');
    expect(await term.exitCode()).toBe(0);

    const state = readState(tui.statePath);
    const blocker = state.dps.enrollments.find((e) => e.registrationId === deviceId);
    expect(blocker?.provisioningStatus).toBe('disabled');
    expect(before.dps.enrollments.some((e) => e.registrationId === deviceId)).toBe(false);
    expect(
      state.dps.groups.find((g) => g.enrollmentGroupId === 'factory-line-berlin')?.provisioningStatus,
    ).toBe('enabled');
    const records = before.dps.registrations.filter((r) => r.enrollment.id === 'factory-line-berlin');
    expect(records.length).toBeGreaterThan(1);
    for (const r of records) {
      const now = deviceOnHub(state, r.assignedHub, r.deviceId);
      const then = deviceOnHub(before, r.assignedHub, r.deviceId);
      if (r.registrationId === deviceId) expect(now.status).toBe('disabled');
      else
        expect({ id: r.deviceId, status: now.status, etag: now.etag }).toEqual({
          id: r.deviceId,
          status: then.status,
          etag: then.etag,
        });
    }
  });

  it('filter to 3 of the group, Enter: blockers for exactly those 3, the group and the others untouched', async () => {
    tui = startTui();
    const { term } = tui;
    await term.waitFor('Press Enter to choose an enrollment.', 45_000);
    const before = readState(tui.statePath);
    const records = before.dps.registrations.filter((r) => r.enrollment.id === 'factory-line-berlin');
    const shown = records.map((r) => r.registrationId).filter((id) => id.includes('sensor-berlin-001'));
    expect(shown).toHaveLength(3);
    expect(records.length).toBeGreaterThan(3);

    await openEnrollments(term, 'groups');
    await openRow(term, 'factory-line-berlin', /continue with the whole group/);
    term.send('/');
    term.type('sensor-berlin-001');
    await term.waitFor(`3 of ${records.length}`);
    term.send('Enter');
    await term.waitFor(/continue with the 3 devices shown only/);
    term.send('Enter');
    const permanence = await term.waitFor('Enter: review the plan');
    // The title wraps at 80 columns.
    expect(permanence.replace(/\s+/g, ' ')).toContain(
      'the 3 devices shown by the filter "sensor-berlin-001"',
    );
    term.send('Enter');
    const review = await term.waitFor('Run it? y: yes');
    expect(review).toMatch(/Devices: 3 on/);
    term.send('y');
    await term.waitFor(/Run \S+ completed\./, 30_000);
    term.send('q');
    expect(await term.exitCode()).toBe(0);

    const state = readState(tui.statePath);
    const group = state.dps.groups.find((g) => g.enrollmentGroupId === 'factory-line-berlin');
    expect(group?.provisioningStatus).toBe('enabled');
    const blockers = state.dps.enrollments
      .filter((e) => !before.dps.enrollments.some((b) => b.registrationId === e.registrationId))
      .map((e) => [e.registrationId, e.provisioningStatus]);
    expect(blockers.sort()).toEqual(shown.sort().map((id) => [id, 'disabled']));
    for (const r of records) {
      const now = deviceOnHub(state, r.assignedHub, r.deviceId);
      const then = deviceOnHub(before, r.assignedHub, r.deviceId);
      if (shown.includes(r.registrationId)) expect(now.status, r.registrationId).toBe('disabled');
      else expect(now.etag, r.registrationId).toBe(then.etag);
    }
  });
});
