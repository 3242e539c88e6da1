/**
 * Kill and resume: a run over a 2,000-device group on three hubs is killed (SIGKILL, no chance to
 * clean up) at a seeded pseudo-random moment after its first destructive intent is journaled; `resume` (no run ID)
 * must finish it. Proof: every device in its intended state, and the emulator's per-target counts show
 * no destructive call made twice for the same device or group.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/cli.js';
import { type CliFixture, deviceOn, startCliFixture } from './fixture.js';
import { buildFleet } from './fleet.js';

const DEVICES = 2000;
const GROUP = 'fleet-2000';
// The client may go as fast as an S3 hub allows; the emulator is set up the same way.
const CAPACITY = ['--hub-tier', 'S3', '--hub-units', '10'];

// The kill lands a seeded pseudo-random time after the first intent: the same delays on every run (a
// failure names the seed and the delay); KILL_RESUME_SEED=<n> tries other moments.
const SEED = Number(process.env.KILL_RESUME_SEED ?? 20_241);
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const random = mulberry32(SEED);

let f: CliFixture;

beforeAll(async () => {
  f = await startCliFixture({ tier: 'S3', units: 10, timeScale: 600 });
});

afterAll(async () => {
  await f?.close();
});

const hasIntent = (path: string): true | undefined => {
  try {
    return readFileSync(path, 'utf8').includes('"type":"intent"') ? true : undefined;
  } catch {
    return undefined;
  }
};

const TRIALS = [{ deregister: 'delete' }, { deregister: 'disable' }, { deregister: 'delete' }] as const;

describe(`run killed with SIGKILL, then resume (${DEVICES} devices over three hubs)`, () => {
  it.each(TRIALS.map((t, i) => ({ ...t, trial: i + 1 })))(
    'trial $trial: deregister $deregister',
    async ({ deregister }) => {
      const { emulator } = f;
      const fleet = buildFleet(emulator, GROUP, DEVICES, { disabledEvery: 97 });
      expect(new Set(fleet.hubOf.values()).size).toBe(3);
      emulator.resetStats();
      // Latency keeps the destructive phases open long enough for the kill to land inside them.
      emulator.setFaults({ latencyMs: 60, seed: 11 });

      const child = f.spawn([
        'run',
        '--group',
        GROUP,
        '--disenroll',
        'disable',
        '--deregister',
        deregister,
        '--yes',
        ...CAPACITY,
      ]);
      const journal = await waitUntil(() => /journal (\S+\.jsonl)/.exec(child.output().stderr)?.[1]);
      await waitUntil(() => hasIntent(journal));
      const delayMs = Math.floor(random() * 400);
      await new Promise((r) => setTimeout(r, delayMs));
      child.child.kill('SIGKILL');
      const killed = await child.result;
      const context = `killed ${delayMs} ms after the first intent (KILL_RESUME_SEED=${SEED})`;
      // Rarely the run may have ended just before the signal; the resume below must then find nothing.
      const finished = killed.code === 0;
      if (!finished) expect(killed.signal, context).toBe('SIGKILL');

      emulator.setFaults(undefined);
      const resume = await f.cli(['resume', ...CAPACITY]);
      if (finished) {
        expect(resume.code, context).toBe(2);
        expect(resume.stderr).toMatch(/no interrupted or aborted run to resume/);
      } else {
        expect(resume.stderr, context).not.toMatch(/iot-deprovision:/);
        expect(resume.code, context).toBe(0);
        expect(resume.stdout).toMatch(/: completed$/m);
        expect(resume.stdout).toContain(`Journal: ${journal}`);
      }

      const { store } = emulator;
      expect(store.dps.groups.get(GROUP)?.provisioningStatus).toBe('disabled');
      const wrong: string[] = [];
      const repeated: string[] = [];
      const destructive = emulator.stats().destructive;
      for (const [id, hub] of fleet.hubOf) {
        const device = deviceOn(emulator, hub, id);
        const ok = deregister === 'delete' ? device === undefined : device?.status === 'disabled';
        if (!ok) wrong.push(id);
        // Bulk writes count per device: every action at most once, a delete exactly once.
        const counts = destructive[`${hub}/${id}`] ?? {};
        if (Object.values(counts).some((n) => n > 1)) repeated.push(`${id} ${JSON.stringify(counts)}`);
        if (deregister === 'delete' && counts.delete !== 1)
          repeated.push(`${id} deleted ${counts.delete ?? 0}x`);
      }
      expect(wrong, context).toEqual([]);
      expect(repeated, context).toEqual([]);
      expect(destructive[`dps/enrollmentGroups/${GROUP}`], context).toEqual({ disable: 1 });
      // The records are the journal's snapshot and the hub step's map: the run leaves them alone.
      expect(store.groupRegistrationIds(GROUP)).toHaveLength(DEVICES);
    },
  );
});
