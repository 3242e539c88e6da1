/**
 * The README's screen captures are what the program draws: the walkthrough on the sandbox in a real 80x24
 * terminal (tmux, NO_COLOR), each key screen captured and compared with its marked block in README.md
 * (`<!-- screen:NAME -->` ... `<!-- /screen:NAME -->`). What changes from run to run is masked with text
 * of the same width, so the wrapping stays what a person sees: run IDs, the temporary state folder,
 * timestamps, the emulator's port; on the Run screen the clock (elapsed, ETA) and the throttle's countdown.
 *
 * The Run screen is captured while the run is throttled: the sandbox's emulator is told (its control
 * endpoint, `PUT /_emulator/faults`) to answer every hub call 429 with a Retry-After of ten minutes, so the
 * run waits at its first hub call for as long as the capture takes, whatever the machine's load.
 *
 * After a change to a screen: `UPDATE_SCREENS=1 npx vitest run test/e2e/screens.test.ts` rewrites the
 * blocks (then read the diff of README.md).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LAUNCHER, PROJECT_ROOT } from '../support/cli.js';
import { Terminal } from '../support/tmux.js';
import { highlight, lines, openEnrollments, openRow, START_TIMEOUT } from './tui.js';

const README = join(PROJECT_ROOT, 'README.md');
const UPDATE = process.env.UPDATE_SCREENS === '1';
/** The screens the README shows, in the order a person meets them. */
const SCREENS = ['enrollments', 'devices', 'permanence', 'review', 'run', 'summary'] as const;
type ScreenName = (typeof SCREENS)[number];

/** A fixed folder name length (not $TMPDIR, whose length would move the wrapping of the restore command). */
const STATE_PREFIX = '/tmp/iotd-scr-';

/** Replaces what differs between runs by text of the same width. */
function mask(screen: string): string {
  return screen
    .replace(/\b\d{8}T\d{6}Z-[0-9a-f]{6}\b/g, 'YYYYMMDDThhmmssZ-xxxxxx')
    .replace(/\/tmp\/iotd-scr-[A-Za-z0-9]{6}/g, `${STATE_PREFIX}XXXXXX`)
    .replace(/\b\d\d-\d\d \d\d:\d\d\b/g, 'MM-DD hh:mm')
    .replace(/\b\d\d:\d\d:\d\d\b/g, 'hh:mm:ss')
    .replace(/127\.0\.0\.1:\d+/g, (m) => `127.0.0.1:${'P'.repeat(m.length - 10)}`)
    .replace(/^Elapsed .* · ETA .*$/m, 'Elapsed ss · ETA mm ss')
    .replace(/waiting \d+s/g, (m) => `waiting ${'n'.repeat(m.length - 9)}s`);
}

/** Sets the sandbox emulator's injected faults (null clears them) through its control endpoint. */
async function setFaults(endpoint: string, spec: object | null): Promise<void> {
  const res = await fetch(`${endpoint}/_emulator/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  expect(res.status).toBe(200);
}

/** The screen without the blank rows below the footer. */
const trimmed = (screen: string): string => lines(screen).join('\n').replace(/\n+$/, '');

/** Waits for `text`, then for the screen to stay the same across a few polls (a frame fully drawn). */
async function settled(term: Terminal, text: string | RegExp, timeoutMs = 30_000): Promise<string> {
  let last = await term.waitFor(text, timeoutMs);
  let same = 0;
  const deadline = Date.now() + timeoutMs;
  while (same < 3 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 150));
    const now = term.screen();
    same = mask(now) === mask(last) ? same + 1 : 0;
    last = now;
  }
  return trimmed(mask(last));
}

const block = (name: ScreenName) =>
  new RegExp(`(<!-- screen:${name} -->\\n\`\`\`text\\n)([\\s\\S]*?)(\\n\`\`\`\\n<!-- /screen:${name} -->)`);

function readBlock(readme: string, name: ScreenName): string | undefined {
  return block(name).exec(readme)?.[2];
}

function writeBlock(readme: string, name: ScreenName, capture: string): string {
  if (!block(name).test(readme)) throw new Error(`README.md has no <!-- screen:${name} --> block`);
  return readme.replace(
    block(name),
    (_m, open: string, _old: string, close: string) => `${open}${capture}${close}`,
  );
}

let term: Terminal | undefined;
let dir = '';
afterEach(() => {
  term?.close();
  term = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the README screen captures', () => {
  it('the masking keeps every line as wide as the screen drew it', () => {
    const screen = `Run 20261130T232230Z-5b04f0 completed.\nJournal: /tmp/iotd-scr-a1B2c3/x\n  [ ] m  09-01 23:22\nEndpoint  http://127.0.0.1:36093`;
    const masked = mask(screen);
    expect(masked).toBe(
      'Run YYYYMMDDThhmmssZ-xxxxxx completed.\nJournal: /tmp/iotd-scr-XXXXXX/x\n  [ ] m  MM-DD hh:mm\nEndpoint  http://127.0.0.1:PPPPP',
    );
    expect(lines(masked).map((l) => l.length)).toEqual(lines(screen).map((l) => l.length));
    // The Run screen's clock and countdown move every second: the same text whatever they show.
    const run = (elapsed: string, eta: string, wait: number) =>
      mask(`Elapsed ${elapsed} · ETA ${eta}\nthrottled by hub-eu.azure-devices.net, waiting ${wait}s`);
    expect(run('3s', '10m 00s', 600)).toBe(run('1m 05s', '8m 57s', 537));
    expect(run('3s', '10m 00s', 600)).toBe(
      'Elapsed ss · ETA mm ss\nthrottled by hub-eu.azure-devices.net, waiting nnns',
    );
  });

  it('Enrollments, Devices, Permanence, Review, Run (throttled) and Summary at 80x24 match README.md', async () => {
    dir = mkdtempSync(STATE_PREFIX);
    term = new Terminal([process.execPath, LAUNCHER, '--sandbox', '--state', join(dir, 'sandbox.json')], {
      cols: 80,
      rows: 24,
      cwd: PROJECT_ROOT,
      env: {
        XDG_STATE_HOME: dir,
        XDG_CONFIG_HOME: dir,
        NO_COLOR: '1',
        IOT_DPS_CONNECTION_STRING: undefined,
        IOTHUB_CONNECTION_STRING: undefined,
        IOT_DEPROVISION_ENDPOINT: undefined,
      },
    });
    const captures = {} as Record<ScreenName, string>;

    const start = await term.waitFor('Press Enter to choose an enrollment.', START_TIMEOUT);
    const endpoint = /Endpoint\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(start)?.[1];
    expect(endpoint, 'the Target screen shows the sandbox endpoint').toBeDefined();
    await openEnrollments(term, 'groups');
    captures.enrollments = await settled(term, /\[ Groups \(\d+\) \]/);

    await openRow(term, 'smart-meters-eu', /continue with the whole group/);
    captures.devices = await settled(term, 'Enter: continue with the whole group');

    // One device of the symmetric-key group: the Permanence screen explains why a blocker, not a key rotation.
    term.send('Space');
    await term.waitFor('Enter: continue with the 1 marked device only.');
    term.send('Enter');
    captures.permanence = await settled(term, 'Enter: review the plan');
    expect(captures.permanence).toMatch(/Warnings:/);

    term.send('Enter');
    captures.review = await settled(term, 'Run it? y: yes');

    term.send('y');
    captures.summary = await settled(term, /t try to register now/);
    expect(captures.summary).toMatch(/Run YYYYMMDDThhmmssZ-xxxxxx completed\./);

    // A second device, run while every hub call is answered 429 (Retry-After 600 s): the Run screen
    // waits at the hub step, showing the throttle.
    term.send('Escape'); // Summary: start over, at the Enrollments screen
    await term.waitFor(/\[ (Individual|Groups) \(\d+\) \]/);
    if (!/\[ Groups \(\d+\) \]/.test(term.screen())) {
      term.send('Tab');
      await term.waitFor(/\[ Groups \(\d+\) \]/);
    }
    await openRow(term, 'smart-meters-eu', /continue with the whole group/);
    await highlight(term, 'meter-eu-0002');
    term.send('Space');
    await term.waitFor('Enter: continue with the 1 marked device only.');
    term.send('Enter');
    await term.waitFor('Enter: review the plan');
    term.send('Enter');
    await term.waitFor('Run it? y: yes');
    await setFaults(endpoint as string, { throttleRate: 1, retryAfterSeconds: 600, only: ['hub'] });
    term.send('y');
    captures.run = await settled(term, /throttled by hub-\S+, waiting \d+s/);
    expect(captures.run).toMatch(/^disenroll +\[█+\] +1\/1 /m);
    expect(captures.run).toMatch(/^deregister +\[░+\] +0\/1 /m);
    await setFaults(endpoint as string, null);

    let readme = readFileSync(README, 'utf8');
    if (UPDATE) {
      for (const name of SCREENS) readme = writeBlock(readme, name, captures[name]);
      writeFileSync(README, readme);
    }
    for (const name of SCREENS) {
      const shown = readBlock(readme, name);
      expect(shown, `README.md has no <!-- screen:${name} --> block`).toBeDefined();
      expect
        .soft(
          shown,
          `README.md's ${name} screen is not what the program draws: UPDATE_SCREENS=1 npx vitest run test/e2e/screens.test.ts`,
        )
        .toBe(captures[name]);
    }
  });
});
