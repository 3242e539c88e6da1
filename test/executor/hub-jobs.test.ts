import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan, StepOperation } from '../../src/core/plan-types.js';
import { createRegistry, type Registry } from '../../src/services/azure/clients.js';
import { execute } from '../../src/services/executor/index.js';
import { openJournal } from '../../src/services/journal/index.js';
import { openJobStorage } from '../../src/services/storage/job-storage.js';
import { poolOf } from '../../src/services/storage/job-storage-pool.js';
import { type Sandbox, startSandbox } from '../azure/support.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';
import { planOf } from './plans.js';

// The executor's jobs path against the emulator (the hub) and Azurite (the storage), real SDK clients.
let azurite: AzuriteHandle;
let sb: Sandbox;
let raw: Registry;
let host: string;
let root: string;
const N = 300;
const ids = Array.from({ length: N }, (_, i) => `fleet-${String(i).padStart(4, '0')}`);

const jobPlan = (op: StepOperation): Plan =>
  planOf(
    { kind: 'group', groupId: 'g1' } as any,
    { dps: 'none', hub: 'disable' } as any,
    [{ phase: 'deregister', op, registrationIds: ids }],
    [],
  );

const run = async (plan: Plan, container: string) => {
  const env = { XDG_STATE_HOME: root };
  const journal = await openJournal(
    { target: { dpsHost: sb.target.dps.host, hubHosts: [host] }, plan } as any,
    { env },
  );
  const handle = execute(plan, {
    dps: sb.ports.dps,
    hubs: sb.ports.hubs,
    journal,
    journalOptions: { env },
    limits: { timeScale: 1000, callTimeoutMs: 10_000 },
    jobStorage: poolOf(openJobStorage(await azurite.container(container))),
    jobPollMs: 20,
  });
  return { summary: await handle.done, journalPath: handle.journalPath };
};

/** Every file under the state folder, as text (the journal and anything else the run wrote). */
const everything = async (dir: string): Promise<string> => {
  let out = '';
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out += await readFile(join(e.parentPath, e.name), 'utf8');
  }
  return out;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hub-jobs-'));
  azurite = await startAzurite();
  sb = await startSandbox({ jobRate: 600_000 });
  host = sb.emulator.hubs[0].host;
  raw = createRegistry(sb.target.hubs.get(host) as any, sb.target.endpoint);
  for (let at = 0; at < N; at += 100) {
    await raw.addDevices(ids.slice(at, at + 100).map((deviceId) => ({ deviceId, status: 'enabled' })));
  }
}, 60_000);
afterAll(async () => {
  await sb?.emulator.stop();
  await azurite?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

// One story over one fleet (each test starts from what the one before left): the tests keep their
// order in the shuffled pass; the file still runs at any point among the others.
describe('hub steps through import/export jobs', { shuffle: false }, () => {
  it('disables 300 devices on one hub with one export and one import job, keys kept and nowhere in outputs', async () => {
    const keysBefore = ((await raw.get('fleet-0007')).responseBody as any).authentication.symmetricKey;
    sb.emulator.resetStats();
    const { summary } = await run(
      jobPlan({ kind: 'hubJobDevices', hub: host, action: 'disable', deviceIds: ids }),
      'disable',
    );
    const step = summary.results.find((r) => r.stepId === 'deregister:0');
    expect(step?.outcome).toBe('succeeded');
    expect(step?.devices?.filter((d) => d.outcome === 'succeeded')).toHaveLength(N);
    // A handful of identity operations, not two per device.
    const identityOps = Object.entries(sb.emulator.stats().operations)
      .filter(([op]) => /^hub:(getDevice|bulk|putDevice)/.test(op))
      .reduce((n, [, by]) => n + Object.values(by).reduce((a, b) => a + b, 0), 0);
    expect(identityOps).toBe(0);
    const listed = sb.ports.hubs.get(host)?.listDevices();
    let disabled = 0;
    for await (const page of listed ?? []) disabled += page.filter((d) => d.status === 'disabled').length;
    expect(disabled).toBe(N);
    const after = ((await raw.get('fleet-0007')).responseBody as any).authentication.symmetricKey;
    expect(after).toMatchObject(keysBefore);
    expect(sb.emulator.jobsCreated()[sb.emulator.hubs[0].name]).toEqual({ export: 1, import: 1 });
    expect(await azurite.blobs('disable')).toEqual([]);
    const written = await everything(root);
    expect(written).not.toContain(keysBefore.primaryKey);
    expect(written).not.toContain(keysBefore.secondaryKey);
    expect(written).not.toMatch(/sig=/);
    expect(JSON.stringify(summary)).not.toContain(keysBefore.primaryKey);
  }, 60_000);

  it('deletes through one import job, no export; a device already gone is already done', async () => {
    await raw.delete(ids[5]);
    const { summary } = await run(
      jobPlan({ kind: 'hubJobDevices', hub: host, action: 'delete', deviceIds: ids }),
      'delete',
    );
    const step = summary.results.find((r) => r.stepId === 'deregister:0');
    expect(step?.outcome).toBe('succeeded');
    expect(step?.devices?.find((d) => d.id === ids[5])?.outcome).toBe('alreadyDone');
    expect(sb.emulator.store.deviceIds(sb.emulator.store.hubByHost(host) as any)).toEqual([]);
    expect(sb.emulator.jobsCreated()[sb.emulator.hubs[0].name]).toEqual({ export: 1, import: 2 });
    expect(await azurite.blobs('delete')).toEqual([]);
  }, 60_000);
});
