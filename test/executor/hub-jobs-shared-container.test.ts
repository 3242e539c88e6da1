import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/plan-types.js';
import { createRegistry } from '../../src/services/azure/clients.js';
import { execute } from '../../src/services/executor/index.js';
import { openJournal } from '../../src/services/journal/index.js';
import { openJobStorage } from '../../src/services/storage/job-storage.js';
import { poolOf } from '../../src/services/storage/job-storage-pool.js';
import { type Sandbox, startSandbox } from '../azure/support.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';
import { planOf } from './plans.js';

// Two hubs' job steps run at the same time against ONE job storage container: the hub's jobs read and
// write fixed blob names (devices.txt, importErrors.log), so the steps must take the container in turn,
// or one hub would read the other's export and call its own devices "not on the hub".
let azurite: AzuriteHandle;
let sb: Sandbox;
const N = 120;
/** Each test its own devices (the tests run in any order). */
const idsOf = (action: string, hub: number) =>
  Array.from({ length: N }, (_, i) => `${action}-${hub}-${String(i).padStart(3, '0')}`);
let hosts: string[];
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shared-container-'));
  azurite = await startAzurite();
  sb = await startSandbox({ jobRate: 600_000 });
  hosts = sb.emulator.hubs.slice(0, 2).map((h) => h.host);
}, 60_000);
afterAll(async () => {
  await sb?.emulator.stop();
  await azurite?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

const seed = async (action: string): Promise<void> => {
  for (const [i, host] of hosts.entries()) {
    const registry = createRegistry(sb.target.hubs.get(host) as any, sb.target.endpoint);
    const ids = idsOf(action, i);
    for (let at = 0; at < ids.length; at += 100)
      await registry.addDevices(ids.slice(at, at + 100).map((deviceId) => ({ deviceId, status: 'enabled' })));
  }
};

const statusesOn = async (host: string): Promise<Map<string, string>> => {
  const out = new Map<string, string>();
  for await (const page of sb.ports.hubs.get(host)?.listDevices() ?? [])
    for (const d of page) out.set(d.deviceId, d.status);
  return out;
};

describe('job steps of several hubs sharing one container', () => {
  it.each(['disable', 'delete'] as const)(
    '%s: every device of both hubs is really done, none called done by mistake',
    async (action) => {
      await seed(action);
      const plan: Plan = planOf(
        { kind: 'group', groupId: 'g1' } as any,
        { dps: 'none', hub: action } as any,
        hosts.map((host, i) => ({
          phase: 'deregister' as const,
          op: { kind: 'hubJobDevices' as const, hub: host, action, deviceIds: idsOf(action, i) },
          registrationIds: idsOf(action, i),
        })),
        [],
      );
      const container = await azurite.container(`shared-${action}`);
      const env = { XDG_STATE_HOME: root };
      const journal = await openJournal(
        { target: { dpsHost: sb.target.dps.host, hubHosts: hosts }, plan } as any,
        { env },
      );
      const handle = execute(plan, {
        dps: sb.ports.dps,
        hubs: sb.ports.hubs,
        journal,
        journalOptions: { env },
        limits: { timeScale: 1000, callTimeoutMs: 10_000 },
        jobStorage: poolOf(openJobStorage(container)),
        jobPollMs: 20,
      });
      const summary = await handle.done;
      for (const [i, host] of hosts.entries()) {
        const statuses = await statusesOn(host);
        for (const id of idsOf(action, i)) {
          if (action === 'delete') expect(statuses.has(id), `${id} on ${host}`).toBe(false);
          else expect(statuses.get(id), `${id} on ${host}`).toBe('disabled');
        }
      }
      const devices = summary.results.flatMap((r) => r.devices ?? []);
      expect(devices).toHaveLength(2 * N);
      expect(devices.filter((d) => d.outcome !== 'succeeded')).toEqual([]);
      expect(await azurite.blobs(`shared-${action}`)).toEqual([]);
    },
    120_000,
  );
});
