/**
 * The TUI through the hubs' import/export jobs, end to end: the compiled program in a real 80x24
 * terminal, given --hub-path jobs and a --job-storage URL of an Azurite container, disables a whole
 * group on its hubs. Review shows each hub taking jobs, the run screen a job's state, the summary the
 * devices disabled; the sandbox's state file (read after the program exited) has them disabled, the
 * journal names the jobs, and the container is left empty. Bad values stop it before it draws (exit 2).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';
import {
  deviceOnHub,
  journals,
  layoutProblems,
  openEnrollments,
  openRow,
  readState,
  START_TIMEOUT,
  startTui,
  type Tui,
} from './tui.js';

let azurite: AzuriteHandle;
let tui: Tui | undefined;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(async () => {
  await azurite?.stop();
});

afterEach(() => {
  tui?.close();
  tui = undefined;
});

const GROUP = 'smart-meters-eu';

describe('the TUI through import/export jobs', () => {
  it('--hub-path jobs: Review shows jobs per hub, Run a job state, Summary and the hubs the devices disabled', async () => {
    const storage = await azurite.container('tui-jobs');
    const sig = new URL(storage).searchParams.get('sig') as string;
    tui = startTui({ args: ['--hub-path', 'jobs', '--job-storage', storage] });
    const { term } = tui;
    await openEnrollments(term, 'groups');
    await openRow(term, GROUP, /continue with the whole group \(\d+ devices\)/);
    term.send('Enter');
    await term.waitFor('Enter: review the plan');
    term.send('Enter');
    const review = await term.waitFor('Run it? y: yes', START_TIMEOUT);
    expect(layoutProblems(term, 80, 24, 'review')).toEqual([]);
    expect(review).toContain('hub: disable (import/export jobs)');
    // Each hub the group's devices landed on takes jobs, and says why.
    const jobHubs = [...review.matchAll(/ (hub-\w+): jobs \(--hub-path jobs\)/g)].map((m) => m[1]);
    expect(jobHubs.length, review).toBeGreaterThan(1);
    // Both estimates, whatever the wrap.
    expect(review.replace(/\s+/g, ' ')).toMatch(/disable, estimated calls ~\d+ s, jobs ~\d+ min/);
    expect(review).not.toContain(sig);

    term.send('y');
    // A job's state on the run screen (it shows from the first job until the run ends).
    const running = await term.waitFor(
      /(export|import) job on hub-\w+: (waiting|queued|running|completed)/,
      START_TIMEOUT,
    );
    expect(running).toContain('Latest results:');
    const summary = await term.waitFor(/Run \S+ completed\./, START_TIMEOUT);
    expect(layoutProblems(term, 80, 24, 'summary')).toEqual([]);
    expect(summary).toMatch(/✓ blocked\s+\S+\s+hub-\w+: disabled/);
    expect(summary).toContain('To undo the temporary actions, run:');
    expect(summary).not.toContain(sig);
    // At the end of the list: how verify read each hub (--hub-path jobs: one export job each, no keys).
    term.send('G');
    const end = await term.waitFor('Hub reads: (how verify read each hub)');
    expect(end).toMatch(/hub-\w+\S*: export job, no keys/);
    expect(layoutProblems(term, 80, 24, 'summary end')).toEqual([]);
    term.send('q');
    expect(await term.exitCode()).toBe(0);

    // On the hubs: every device of the group disabled, on its own hub.
    const state = readState(tui.statePath);
    const records = state.dps.registrations.filter((r) => r.enrollment.id === GROUP);
    expect(new Set(records.map((r) => r.assignedHub)).size).toBe(jobHubs.length);
    for (const r of records) {
      expect(deviceOnHub(state, r.assignedHub, r.deviceId).status, r.deviceId).toBe('disabled');
    }
    // Through jobs: the journal names an export and an import job per hub, never the SAS.
    const [journal] = journals(tui.dir);
    const text = readFileSync(join(tui.dir, 'iot-deprovision', 'runs', journal as string), 'utf8');
    const jobs = text
      .split('\n')
      .filter((l) => l.includes('"type":"job"'))
      .map((l) => JSON.parse(l) as { jobType: string });
    expect(jobs.filter((j) => j.jobType === 'import')).toHaveLength(jobHubs.length);
    expect(text).not.toContain(sig);
    // The blobs held device keys: none is left.
    expect(await azurite.blobs('tui-jobs')).toEqual([]);
  }, 120_000);

  it('a bad --hub-path, or a bad --job-storage: exit 2 with the reason, before the TUI draws', async () => {
    tui = startTui({ args: ['--hub-path', 'sideways'] });
    expect(await tui.term.exitCode()).toBe(2);
    const screen = tui.term.screen();
    expect(screen).toContain('iot-deprovision: --hub-path "sideways": expected calls');
    tui.close();

    // (--hub-path jobs alone is fine here: the sandbox has its own job storage, test/cli/sandbox-jobs.test.ts.)
    tui = startTui({ args: ['--hub-path', 'jobs', '--job-storage', 'not a url'] });
    expect(await tui.term.exitCode()).toBe(2);
    expect(tui.term.screen().replace(/\s+/g, ' ')).toContain('--job-storage is not a URL');
  }, 60_000);
});
