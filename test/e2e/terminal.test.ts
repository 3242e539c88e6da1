/**
 * The program in a real terminal where terminals get hard: a permanent action behind a typed ID, keys
 * arriving in one burst (a paste, a slow SSH link), a resize in the middle of a list, and no terminal
 * at all.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LAUNCHER, PROJECT_ROOT } from '../support/cli.js';
import {
  colourCodes,
  deviceOnHub,
  highlighted,
  journals,
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

describe('the program in a real terminal', () => {
  it('a permanent plan runs only after the exact ID is typed', async () => {
    tui = startTui();
    const { term } = tui;
    const id = 'gateway-munich-0002';
    await openEnrollments(term, 'individual');
    await openRow(term, id, 'Enter: continue with this enrollment.');
    term.send('Enter');
    await term.waitFor('Enter: review the plan');
    term.send('Right');
    await term.waitFor('DELETE: permanent');
    term.send('Enter');
    const review = await term.waitFor(`! PERMANENT. Type ${id}`);
    expect(review).not.toContain('Run it? y: yes');

    term.type('gateway-munich');
    term.send('Enter');
    await term.waitFor(`That does not match ${id}`);
    term.type('y');
    term.send('Enter');
    await term.waitFor(`> gateway-munichy▌`);
    // Nothing ran: still on the review, no run journal, the enrollment still there.
    expect(lines(term.screen())[0]).toMatch(/Review$/);
    expect(journals(tui.dir)).toEqual([]);
    expect(readState(tui.statePath).dps.enrollments.some((e) => e.registrationId === id)).toBe(true);

    for (let i = 0; i < 'gateway-munichy'.length; i++) term.send('BSpace');
    await term.waitFor(/^> ▌/m);
    term.type(id);
    term.send('Enter');
    await term.waitFor(/Run \S+ completed\./, 30_000);
    term.send('q');
    expect(await term.exitCode()).toBe(0);
    expect(journals(tui.dir).length).toBe(1);

    const state = readState(tui.statePath);
    expect(state.dps.enrollments.some((e) => e.registrationId === id)).toBe(false);
    const record = state.dps.registrations.find((r) => r.registrationId === id);
    // The hub step kept its default (disable): the identity is still there, disabled.
    const hub = record?.assignedHub ?? state.hubs.find((h) => h.devices.some((d) => d.deviceId === id))?.host;
    expect(deviceOnHub(state, hub, id).status).toBe('disabled');
  });

  it('Down and Enter in one burst open the row shown after Down', async () => {
    tui = startTui();
    const { term } = tui;
    const screen = await openEnrollments(term, 'individual');
    const rows = lines(screen);
    const at = rows.findIndex((l) => l.startsWith('›'));
    const first = highlighted(screen)?.split(/\s+/)[0];
    const second = rows[at + 1]?.trim().split(/\s+/)[0];
    expect(first && second && first !== second).toBe(true);
    term.burst('\u001b[B\r');
    const opened = await term.waitFor(/Individual enrollment \S+ ·/);
    expect(opened).toContain(`Individual enrollment ${second} ·`);
    expect(lines(opened)[0]).toContain(`${second} > Devices`);
  });

  it('a resize while on a list redraws cleanly on the alternate screen', async () => {
    tui = startTui();
    const { term } = tui;
    await openEnrollments(term, 'groups');
    expect(term.alternateOn()).toBe(true);
    expect(layoutProblems(term, 80, 24, '80x24')).toEqual([]);

    for (const [cols, rows] of [
      [110, 30],
      [60, 16],
      [80, 24],
    ]) {
      term.resize(cols, rows);
      const screen = await term.waitFor((s) => lines(s)[1] === '─'.repeat(cols));
      expect(layoutProblems(term, cols, rows, `${cols}x${rows}`)).toEqual([]);
      // The list is whole and still has the highlight; the tab line is there once.
      expect(lines(screen).filter((l) => l.includes('Tab switches')).length).toBe(1);
      expect(highlighted(screen)).toMatch(/^contoso-root-ca\s/);
    }
    term.send('Down');
    const moved = await term.waitFor((s) => highlighted(s)?.startsWith('factory-line-berlin') === true);
    expect(layoutProblems(term, 80, 24, 'after Down')).toEqual([]);
    expect(lines(moved).filter((l) => l.startsWith('›')).length).toBe(1);
    // A terminal with colours gets them (the NO_COLOR test's control).
    expect(colourCodes(term.screenWithEscapes()).length).toBeGreaterThan(0);

    term.send('q');
    expect(await term.exitCode()).toBe(0);
    // Leaving the alternate screen restores what was there: none of the TUI's frame is left behind.
    expect(term.alternateOn()).toBe(false);
    const after = term.screen();
    expect(after).toContain('iot-deprovision: nothing was changed.');
    expect(after).not.toContain('Tab switches');
  });

  it('without a terminal, names the headless commands and exits 2 (the sandbox never starts)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotd-e2e-'));
    const statePath = join(dir, 'sandbox.json');
    const stdin = openSync('/dev/null', 'r');
    try {
      const child = spawn(process.execPath, [LAUNCHER, '--sandbox', '--state', statePath], {
        cwd: PROJECT_ROOT,
        stdio: [stdin, 'pipe', 'pipe'],
        env: { ...process.env, XDG_STATE_HOME: dir, XDG_CONFIG_HOME: dir, CI: undefined },
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d) => {
        stdout += d;
      });
      child.stderr?.on('data', (d) => {
        stderr += d;
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(2);
      expect(stderr).toMatch(/needs an interactive terminal/);
      expect(stderr).toMatch(/iot-deprovision plan\|run\|verify --help/);
      expect(stderr).toContain('ssh -t');
      expect(stdout).toBe('');
      expect(existsSync(statePath)).toBe(false);
    } finally {
      closeSync(stdin);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
