/**
 * "Try to register this device now" in the compiled program: after a run that blocked one device of a
 * symmetric-key group, the device registers for real (the device SDK, with the key the sandbox holds
 * for it) against the embedded emulator, whose own DPS rules refuse it: an independent check of the
 * analysis's "blocked", shown on the summary beside the prediction.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  highlighted,
  layoutProblems,
  lines,
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

describe('try to register a device now, in a real terminal', () => {
  it('a blocked device of smart-meters-eu: t shows DPS refused it, matching the analysis', async () => {
    tui = startTui();
    const { term } = tui;
    await openEnrollments(term, 'groups');
    const list = await openRow(term, 'smart-meters-eu', /continue with the whole group/);
    const deviceId = /^\[ \] (\S+)/.exec(highlighted(list) ?? '')?.[1] as string;
    expect(deviceId).toBeTruthy();
    term.send('Space');
    await term.waitFor('Enter: continue with the 1 marked device only.');
    term.send('Enter');
    await term.waitFor('Enter: review the plan');
    term.send('Enter');
    await term.waitFor('Run it? y: yes');
    term.send('y');
    await term.waitFor(/Run \S+ completed\./, 30_000);
    // The footer names the new keys: the sandbox's backend can make devices register.
    const summary = await term.waitFor((s) => (lines(s).at(-2) ?? '').includes('t try to register now'));
    // One line per device: verdict, ID, what the run did on its hub.
    expect(highlighted(summary)).toMatch(new RegExp(`^✓ blocked\\s+${deviceId}\\s+hub-\\w+: disabled`));
    expect(summary).not.toContain('device: refused');

    term.send('t');
    const answered = await term.waitFor(/device: (refused|assigned|ERROR|not tried)[^\n]*/, 30_000);
    // The blocker decides first and holds keys of its own, so the device's group-derived key gets 401.
    expect(answered).toContain('→ blocked · device: refused (401) · hub: refused (401) ✓ matches');
    expect(answered).toContain('Attempts: 1 match the analysis, 0 DIFFER.');
    expect(layoutProblems(term, 80, 24, 'summary after t')).toEqual([]);

    term.send('q');
    expect(await term.exitCode()).toBe(0);
    // Refused: the attempt left the blocker disabled and assigned the device nowhere new.
    const state = readState(tui.statePath);
    const blocker = state.dps.enrollments.find((e) => e.registrationId === deviceId);
    expect(blocker?.provisioningStatus).toBe('disabled');
    expect(
      state.dps.registrations.some((r) => r.registrationId === deviceId && r.enrollment.id === deviceId),
    ).toBe(false);
  });
});
