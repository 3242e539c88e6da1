/**
 * The sandbox's job storage through the compiled program (`--sandbox --state F`): with no --job-storage
 * the sandbox's own Azurite holds the hubs' import/export jobs' blobs. `--hub-path jobs` plans and runs
 * through jobs with it (named "the sandbox's storage (Azurite)", never a SAS); a plan that takes calls
 * never starts it; its restore follows the jobs; an explicit --job-storage still wins. The storage
 * missing (a packed install without dev dependencies) is proven in test/package/pack.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StoreSnapshot } from '../../src/services/emulator/store.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';
import { jsonLines, outputScan, runCli, spawnCli, tempDir, waitUntil } from '../support/cli.js';

const SANDBOX_STORAGE = "the sandbox's storage (Azurite)";
const STARTING = /Starting the sandbox's storage \(Azurite\)/g;
/** Azurite's development account key: published, and still never printed or journaled. */
const ACCOUNT_KEY_START = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1';
const GROUP = 'smart-meters-eu';

let home: Awaited<ReturnType<typeof tempDir>>;
let stateFile: string;
let azurite: AzuriteHandle;
let explicit: string;
/** The run the restore test undoes (the tests of the first describe are one story, in order). */
let jobsRun: string;
const readState = (): StoreSnapshot => JSON.parse(readFileSync(stateFile, 'utf8')) as StoreSnapshot;
const scan = outputScan(
  () => {
    const { dps, hubs } = readState();
    return [dps.policy, ...hubs.map((h) => h.policy)].flatMap((p) => [p.primaryKey, p.secondaryKey]);
  },
  { extraSecrets: [ACCOUNT_KEY_START, 'sig='] },
);
afterEach(() => scan.check());

beforeAll(async () => {
  home = await tempDir('sandbox-jobs');
  stateFile = join(home.path, 'sandbox.json');
  azurite = await startAzurite();
  explicit = await azurite.container('explicit');
}, 60_000);

afterAll(async () => {
  await azurite?.stop();
  await home?.remove();
});

const cli = async (args: string[], env?: Record<string, string>) => {
  const r = await runCli([...args, '--sandbox', '--state', stateFile], { stateHome: home.path, env });
  scan.add(r.stdout, r.stderr);
  return r;
};
const actions = ['--disenroll', 'disable', '--deregister', 'disable'];
const journals = () => join(home.path, 'iot-deprovision', 'runs');
const journalOf = (runId: string) => readFileSync(join(journals(), `${runId}.jsonl`), 'utf8');
const jobsIn = (journal: string) =>
  journal
    .split('\n')
    .filter((l) => l.includes('"type":"job"'))
    .map((l) => JSON.parse(l) as { hub: string; jobType: string });
const hubStatuses = (group: string): Record<string, string> => {
  const state = readState();
  const out: Record<string, string> = {};
  for (const r of state.dps.registrations) {
    if (r.enrollment.kind !== 'group' || r.enrollment.id !== group) continue;
    const hub = state.hubs.find((h) => h.host === r.assignedHub);
    out[r.registrationId] = hub?.devices.find((d) => d.deviceId === r.registrationId)?.status ?? 'absent';
  }
  return out;
};

describe('--sandbox without --job-storage: the sandbox’s own storage', { shuffle: false }, () => {
  it('plan --hub-path jobs plans one job step per hub with the sandbox’s storage, without starting it', async () => {
    const r = await cli(['plan', '--group', GROUP, ...actions, '--hub-path', 'jobs']);
    expect(r.stderr).not.toMatch(/iot-deprovision:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`job storage: ${SANDBOX_STORAGE}`);
    expect(r.stdout.match(/\.azure-devices\.net: jobs \(--hub-path jobs\)/g)).toHaveLength(3);
    expect(
      r.stdout.match(/export job, then import job \(updateIfMatchETag, status=disabled, 5 devices\)/g),
    ).toHaveLength(3);
    // Planning needs the storage available, not running.
    expect(r.stderr).not.toMatch(STARTING);

    const json = await cli(['plan', '--group', GROUP, ...actions, '--hub-path', 'jobs', '--json']);
    expect(json.code).toBe(0);
    const plan = jsonLines(json.stdout)[0] as { jobStorage?: string; steps: { op: { kind: string } }[] };
    expect(plan.jobStorage).toBe(SANDBOX_STORAGE);
    expect(plan.steps.filter((s) => s.op.kind === 'hubJobDevices')).toHaveLength(3);
  });

  it('auto on the demo fleet takes calls (jobs are weighed, not faster) and never starts Azurite', async () => {
    const json = await cli(['plan', '--group', 'plc-hamburg', ...actions, '--json']);
    expect(json.code).toBe(0);
    const plan = jsonLines(json.stdout)[0] as {
      jobStorage?: string;
      hubPaths: { path: string; reason: string }[];
    };
    expect(plan.jobStorage).toBeUndefined();
    expect(plan.hubPaths.length).toBeGreaterThan(0);
    for (const h of plan.hubPaths)
      expect(h).toMatchObject({ path: 'calls', reason: expect.stringMatching(/^jobs would not be faster/) });

    const run = await cli(['run', '--group', 'plc-hamburg', ...actions, '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Run \S+: completed$/m);
    expect(run.stderr).not.toMatch(STARTING);
    expect(Object.values(hubStatuses('plc-hamburg'))).toEqual(['disabled', 'disabled', 'disabled']);
  });

  it('run --hub-path jobs --yes disables the group through one export and one import job per hub', async () => {
    const before = hubStatuses(GROUP);
    expect(Object.values(before).filter((s) => s === 'enabled')).toHaveLength(14);
    const r = await cli(['run', '--group', GROUP, ...actions, '--hub-path', 'jobs', '--yes']);
    expect(r.code).toBe(0);
    const runId = /^Run (\S+): completed$/m.exec(r.stdout)?.[1] as string;
    expect(runId).toBeDefined();
    jobsRun = runId;
    expect(r.stdout).toMatch(/deregister +done 3, already done 0, failed 0/);
    // Started once, by the first job step; the steps of the other hubs waited for its one container.
    expect(r.stderr.match(STARTING)).toHaveLength(1);
    expect(Object.values(hubStatuses(GROUP))).toEqual(Array(15).fill('disabled'));
    const journal = journalOf(runId);
    const jobs = jobsIn(journal);
    const hubs = [...new Set(jobs.map((j) => j.hub))];
    expect(hubs).toHaveLength(3);
    for (const hub of hubs)
      expect(
        jobs.filter((j) => j.hub === hub).map((j) => j.jobType),
        hub,
      ).toEqual(['export', 'import']);
    expect(journal).toContain(SANDBOX_STORAGE);
    expect(journal).not.toMatch(/sig=/);
    expect(journal).not.toContain(ACCOUNT_KEY_START);
  });

  it('restore (the journal chooses the sandbox) re-enables through jobs, as the run went', async () => {
    const r = await runCli(['restore', jobsRun, '--yes'], { stateHome: home.path });
    scan.add(r.stdout, r.stderr);
    expect(r.stderr).not.toMatch(/iot-deprovision:/);
    expect(r.code).toBe(0);
    // The plan goes to stderr before a run (stdout is the run's result).
    expect(r.stderr).toContain(`job storage: ${SANDBOX_STORAGE}`);
    expect(r.stderr.match(STARTING)).toHaveLength(1);
    const statuses = hubStatuses(GROUP);
    // meter-eu-0011 was disabled before the run: the restore leaves it so.
    expect(statuses['meter-eu-0011']).toBe('disabled');
    expect(Object.values(statuses).filter((s) => s === 'enabled')).toHaveLength(14);
  });
});

describe('--sandbox with --job-storage: the given storage wins; ambient job storage is not the sandbox’s', () => {
  it('an explicit --job-storage is used (named without its SAS) and Azurite is not started', async () => {
    const r = await cli([
      'run',
      '--group',
      'factory-line-berlin',
      ...actions,
      '--hub-path',
      'jobs',
      '--yes',
      '--job-storage',
      explicit,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`job storage: ${explicit.split('?')[0]}`);
    expect(r.stderr).not.toContain(SANDBOX_STORAGE);
    expect(r.stderr).not.toMatch(STARTING);
    expect(Object.values(hubStatuses('factory-line-berlin')).every((s) => s === 'disabled')).toBe(true);
    // The jobs' blobs were written there and deleted after.
    expect(await azurite.blobs('explicit')).toEqual([]);
  });

  it('IOT_DEPROVISION_JOB_STORAGE (the configured target’s storage) is not taken by the sandbox', async () => {
    const r = await cli(['plan', '--group', 'contoso-root-ca', ...actions, '--hub-path', 'jobs'], {
      IOT_DEPROVISION_JOB_STORAGE: explicit,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`job storage: ${SANDBOX_STORAGE}`);
  });
});

/** The child processes of a process (Linux: /proc), or undefined while it has none. */
const childrenOf = (pid: number): number[] | undefined => {
  try {
    const ids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return ids.length > 0 ? ids.map(Number) : undefined;
  } catch {
    return undefined;
  }
};
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a sandbox run killed (SIGKILL) once its Azurite is started', () => {
  it('leaves no Azurite behind; resume (the journal chooses the sandbox) finishes through a fresh one', async () => {
    const group = 'contoso-root-ca';
    const p = spawnCli(
      ['run', '--group', group, ...actions, '--hub-path', 'jobs', '--yes', '--sandbox', '--state', stateFile],
      { stateHome: home.path },
    );
    await waitUntil(() => (p.output().stderr.includes("Starting the sandbox's storage") ? true : undefined));
    const cliPid = p.child.pid as number;
    const [storagePid] = await waitUntil(() => childrenOf(cliPid));
    // The sandbox saves its state file a moment after a change: killed before that, the emulated DPS
    // would forget the group's disable the journal has as done (verify would then say so). Killed once it
    // is saved, and while Azurite starts (before any job step has the container).
    const saved = () => {
      try {
        const g = readState().dps.groups.find((x) => x.enrollmentGroupId === group);
        return g?.provisioningStatus === 'disabled' ? true : undefined;
      } catch {
        return undefined; // not written yet
      }
    };
    await waitUntil(saved);
    p.child.kill('SIGKILL');
    const killed = await p.result;
    scan.add(killed.stdout, killed.stderr);
    expect(killed.signal).toBe('SIGKILL');
    // Its storage watched the pipe from the killed process: it ends too, leaving nothing running.
    await waitUntil(() => (alive(storagePid) ? undefined : true));
    const runId = /^Run (\S+) started/m.exec(killed.stderr)?.[1] as string;
    expect(runId).toBeDefined();

    const resumed = await runCli(['resume', runId], { stateHome: home.path });
    scan.add(resumed.stdout, resumed.stderr);
    expect(resumed.stderr).not.toMatch(/iot-deprovision:/);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`^Run ${runId}: completed$`, 'm'));
    expect(resumed.stdout).toMatch(/deregister +done 3, already done 0, failed 0/);
    expect(Object.values(hubStatuses(group))).toEqual(Array(8).fill('disabled'));
    const journal = journalOf(runId);
    expect(journal).not.toMatch(/sig=/);
    expect(journal).not.toContain(ACCOUNT_KEY_START);
  }, 120_000);
});
