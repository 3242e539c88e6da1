/**
 * A run whose hub steps go through the hubs' import/export jobs, with job storage given as a container
 * URL WITHOUT a SAS (Entra ID): the session, executor and SDK clients are the real ones; the emulator's
 * hubs run their jobs against real Azurite (HTTPS, `--oauth basic`) through the user delegation SAS the
 * tool made, which Azurite verifies against the key it handed out. A sign-in storage refuses stops the
 * run before any change, with no journal.
 */
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../src/core/errors.js';
import type { Actions } from '../../src/core/selection.js';
import { buildPorts, emulatorTarget } from '../../src/services/azure/target.js';
import { type EmulatorHandle, startEmulator } from '../../src/services/emulator/index.js';
import { createBackend, type SessionBackend } from '../../src/services/session/create-backend.js';
import { DeprovisionSession } from '../../src/services/session/deprovision-session.js';
import { type JobStorage, openJobStorage } from '../../src/services/storage/job-storage.js';
import { poolOf } from '../../src/services/storage/job-storage-pool.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';

const GROUP = 'smart-meters-eu';
const TEMPORARY: Actions = {
  disenroll: 'disable',
  deregister: 'disable',
  deleteRegistrations: false,
  deleteGroup: false,
};

let azurite: AzuriteHandle;
let emulator: EmulatorHandle;
let stateHome: string;
/** The meters' statuses before the run, and the run's journal (what the restore starts from). */
let before: Record<string, string>;
let journalPath: string;

beforeAll(async () => {
  azurite = await startAzurite({ oauth: true });
  emulator = await startEmulator({ seed: 'demo', throttle: false, timeScale: 600, storageCa: azurite.ca });
  stateHome = await mkdtemp(join(tmpdir(), 'entra-jobs-'));
}, 60_000);

afterAll(async () => {
  await emulator?.stop();
  await azurite?.stop();
  if (stateHome) await rm(stateHome, { recursive: true, force: true });
});

function backendWith(jobStorage: JobStorage): SessionBackend {
  const target = emulatorTarget(emulator, 'azure');
  const ports = buildPorts(target, { timeoutMs: 10_000 });
  return createBackend({
    target: target.describe(),
    dps: ports.dps,
    hubs: ports.hubs,
    env: { XDG_STATE_HOME: stateHome },
    limits: { timeScale: 600 },
    hubPath: 'jobs',
    jobStorage: poolOf(jobStorage),
  });
}

const meterStatuses = (): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const hub of emulator.store.hubs.values()) {
    for (const [id, d] of hub.devices) if (id.startsWith('meter-eu-')) out[`${hub.host}/${id}`] = d.status;
  }
  return out;
};

/** Every file under the state folder, as text (the journals and anything else a run wrote). */
const everything = async (): Promise<string> => {
  let out = '';
  for (const e of await readdir(stateHome, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out += await readFile(join(e.parentPath, e.name), 'utf8');
  }
  return out;
};

async function planGroup(session: DeprovisionSession) {
  session.send({ type: 'PLAN', selection: { kind: 'group', groupId: GROUP }, actions: TEMPORARY });
  const planned = await session.rest();
  expect(planned.state).toBe('planned');
  return planned.context.plan;
}

// The refusal first (nothing may change), then the run on the same fleet, then its restore.
describe('job storage signed in with Entra ID (a container URL without a SAS)', { shuffle: false }, () => {
  it('a sign-in storage refuses stops the run before any change: bad input naming what to do, no journal', async () => {
    await azurite.container('entra-refused');
    const before = JSON.stringify(meterStatuses());
    const storage = openJobStorage(`${azurite.blobUrl}/entra-refused`, {
      credential: azurite.signIn({ expired: true }),
      ca: azurite.ca,
    });
    const backend = backendWith(storage);
    try {
      const session = new DeprovisionSession(backend);
      await planGroup(session);
      session.send({ type: 'CONFIRM' });
      const view = await session.when('running', 'startFailed', 'settled', 'failed');
      expect(view.state).toBe('startFailed');
      const failure = view.context.failure;
      expect(isUserError(failure)).toBe(true);
      expect((failure as Error).message).toMatch(/did not accept the sign-in token .*nothing was changed/);
    } finally {
      await backend.close();
    }
    expect(JSON.stringify(meterStatuses())).toBe(before);
    expect(emulator.store.dps.groups.get(GROUP)?.provisioningStatus).toBe('enabled');
    expect(emulator.jobsCreated()).toEqual({});
    expect(await everything()).toBe('');
  });

  it("disables a group on three hubs through each hub's export and import jobs; the SAS nowhere in the journal", async () => {
    await azurite.container('entra-jobs');
    before = meterStatuses();
    const url = `${azurite.blobUrl}/entra-jobs`;
    const storage = openJobStorage(url, { credential: azurite.signIn(), ca: azurite.ca });
    const backend = backendWith(storage);
    try {
      const session = new DeprovisionSession(backend);
      const plan = await planGroup(session);
      const jobHubs = plan?.steps.flatMap((s) => (s.op.kind === 'hubJobDevices' ? [s.op.hub] : []));
      expect(new Set(jobHubs).size).toBe(3);
      expect(plan?.jobStorage).toBe(url);
      session.send({ type: 'CONFIRM' });
      const ended = await session.when('settled', 'interrupted', 'failed', 'startFailed');
      expect(ended.state).toBe('settled');
      const summary = ended.context.summary;
      expect(summary?.state).toBe('completed');
      // The seed has one meter disabled already: every meter is disabled now.
      expect(new Set(Object.values(meterStatuses()))).toEqual(new Set(['disabled']));
      // Each hub ran its export and its import job, reading and writing Azurite through the SAS made; the
      // run's verify (--hub-path jobs) read each hub back through one more export job, without keys.
      const created = emulator.jobsCreated();
      expect(Object.keys(created)).toHaveLength(3);
      for (const counts of Object.values(created)) expect(counts).toEqual({ export: 2, import: 1 });
      // The journal names the container, never the SAS; the container holds nothing after.
      journalPath = summary?.journalPath as string;
      const journal = await readFile(journalPath, 'utf8');
      expect(journal).toContain(url);
      const sas = new URL(storage.url);
      expect(journal).not.toContain(sas.searchParams.get('sig') as string);
      expect(await everything()).not.toMatch(/[?&]sig=|skoid=/);
      expect(await azurite.blobs('entra-jobs')).toEqual([]);
    } finally {
      await backend.close();
    }
  });

  it('a restore in a new session (a new process) makes its own delegation key and SAS, and re-enables through jobs', async () => {
    const url = `${azurite.blobUrl}/entra-jobs`;
    const storage = openJobStorage(url, { credential: azurite.signIn(), ca: azurite.ca });
    const backend = backendWith(storage);
    try {
      const session = new DeprovisionSession(backend);
      session.send({ type: 'PLAN_RESTORE', journalPath });
      const planned = await session.rest();
      expect(planned.state).toBe('planned');
      expect(planned.context.plan?.steps.some((s) => s.op.kind === 'hubJobDevices')).toBe(true);
      session.send({ type: 'CONFIRM' });
      const ended = await session.when('settled', 'interrupted', 'failed', 'startFailed');
      expect(ended.context.summary?.state).toBe('completed');
      // Back as they were (the seed's disabled meter stays disabled), through a second import per hub.
      expect(meterStatuses()).toEqual(before);
      for (const counts of Object.values(emulator.jobsCreated())) expect(counts.import).toBe(2);
      expect(new URL(storage.url).searchParams.get('skoid')).toBeTruthy();
      expect(await azurite.blobs('entra-jobs')).toEqual([]);
    } finally {
      await backend.close();
    }
  });
});
