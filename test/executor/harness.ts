/** A run against fake ports with a real journal in a temporary state folder. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReenrollmentVerdict } from '../../src/core/model.js';
import type { Plan } from '../../src/core/plan-types.js';
import type { RunProgress } from '../../src/core/run-events.js';
import { type ExecuteOptions, execute, type RunLimits } from '../../src/services/executor/index.js';
import { openJournal, readJournal } from '../../src/services/journal/index.js';
import { directoryOf, FakeDps, FakeHub } from './fakes.js';

export const HUB_A = 'hub-a.azure-devices.net';
export const HUB_B = 'hub-b.azure-devices.net';

/** Fast but with the real ratios: every rate x1000, backoffs /1000. */
export const FAST: Partial<RunLimits> = { timeScale: 1000, callTimeoutMs: 5_000 };

export interface Harness {
  env: Record<string, string>;
  dps: FakeDps;
  hubA: FakeHub;
  hubB: FakeHub;
  verifyCalls: string[][];
  verdicts: (ids: string[]) => ReenrollmentVerdict[];
  options(extra?: Partial<ExecuteOptions>): Omit<ExecuteOptions, 'journal'>;
  start(plan: Plan, extra?: Partial<ExecuteOptions>): Promise<ReturnType<typeof execute>>;
  journal(path: string): ReturnType<typeof readJournal>;
  /** Every progress a subscriber saw. */
  seen: RunProgress[];
  cleanup(): Promise<void>;
}

export const harness = async (): Promise<Harness> => {
  const root = await mkdtemp(join(tmpdir(), 'executor-'));
  const env = { XDG_STATE_HOME: root };
  const dps = new FakeDps();
  const hubA = new FakeHub(HUB_A);
  const hubB = new FakeHub(HUB_B);
  const verifyCalls: string[][] = [];
  const seen: RunProgress[] = [];
  const h: Harness = {
    env,
    dps,
    hubA,
    hubB,
    verifyCalls,
    seen,
    verdicts: (ids) =>
      ids.map((registrationId) => ({ registrationId, verdict: 'blocked', reason: 'blocker disabled' })),
    options: (extra = {}) => ({
      dps,
      hubs: directoryOf(hubA, hubB),
      limits: FAST,
      verify: async (ids) => {
        verifyCalls.push(ids);
        return h.verdicts(ids);
      },
      journalOptions: { env },
      ...extra,
    }),
    start: async (plan, extra = {}) => {
      const journal = await openJournal(
        { target: { dpsHost: dps.host, hubHosts: [HUB_A, HUB_B] }, plan },
        { env },
      );
      const handle = execute(plan, { ...h.options(extra), journal });
      handle.subscribe((p) => seen.push(p));
      return handle;
    },
    journal: (path) => readJournal(path),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  return h;
};

/** Adds devices to the fakes: registration records on DPS, identities on their hubs. */
export const seed = (h: Harness, devices: { reg: string; hub: string }[]): void => {
  h.dps.addGroup('g1');
  for (const d of devices) {
    h.dps.addRegistration(d.reg, d.hub);
    (d.hub === HUB_A ? h.hubA : h.hubB).addDevice(d.reg);
  }
};
