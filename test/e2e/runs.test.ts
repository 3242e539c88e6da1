/**
 * Runs inside the TUI, end to end: the compiled program in a real 80x24 terminal. A run made in the
 * TUI is restored from its Runs screen (through the review's confirmation); meanwhile the headless
 * `restore` on the same sandbox is refused with words that say to quit the TUI or use its Runs screen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { journals, layoutProblems, openEnrollments, openRow, readState, startTui, type Tui } from './tui.js';

let tui: Tui | undefined;
afterEach(() => {
  tui?.close();
  tui = undefined;
});

describe('runs in the TUI', () => {
  it('restores a run from the Runs screen; the headless restore meanwhile says to quit the TUI first', async () => {
    tui = startTui();
    const { term } = tui;
    const id = 'gateway-munich-0002';
    await openEnrollments(term, 'individual');
    await openRow(term, id, 'Enter: continue with this enrollment.');
    term.send('Enter');
    await term.waitFor('Enter: review the plan');
    term.send('Enter');
    await term.waitFor('Run it? y: yes');
    term.send('y');
    const summary = await term.waitFor(/Run (\S+) completed\./, 30_000);
    const runId = /Run (\S+) completed\./.exec(summary)?.[1] as string;
    expect(journals(tui.dir)).toEqual([`${runId}.jsonl`]);

    // The TUI holds the sandbox: the printed restore command is refused, and says what to do.
    const refused = await runCli(['restore', runId, '--yes', '--sandbox', '--state', tui.statePath], {
      stateHome: tui.dir,
      env: { XDG_CONFIG_HOME: tui.dir },
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /in use by another iot-deprovision .*Quit it first \(q\), or .*Runs screen/s,
    );
    expect(refused.stderr).not.toMatch(/\n\s+at /);

    // R on the summary: the Runs screen, the run on top, then open it and restore it.
    term.send('R');
    const runs = await term.waitFor('Runs recorded on this machine (1)');
    expect(runs).toContain(`enrollment ${id}: DPS disable, hub disable`);
    expect(runs).toContain('Can be restored');
    expect(layoutProblems(term, 80, 24, 'runs')).toEqual([]);
    term.send('Enter');
    await term.waitFor('u: undo (restore) it');
    expect(layoutProblems(term, 80, 24, 'run detail')).toEqual([]);
    term.send('u');
    await term.waitFor(`Plan for the restore of run ${runId}`, 30_000);
    await term.waitFor('Run it? y: yes');
    term.send('y');
    const restored = await term.waitFor(/Run (\S+) completed\./, 30_000);
    const restoreId = /Run (\S+) completed\./.exec(restored)?.[1] as string;
    expect(restoreId).not.toBe(runId);

    // The list now says who restored the run.
    term.send('R');
    await term.waitFor('Runs recorded on this machine (2)');
    term.send('Down');
    await term.waitFor(`Restored by ${restoreId}`);
    term.send('q');
    expect(await term.exitCode()).toBe(0);
    const state = readState(tui.statePath);
    expect(state.dps.enrollments.find((e) => e.registrationId === id)?.provisioningStatus).toBe('enabled');
  });
});
