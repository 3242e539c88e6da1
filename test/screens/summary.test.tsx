/**
 * The summary keeps what matters on screen at 80x24: the phase table, then one line per device
 * (verdict, ID, what the run did on its hub), a windowed list when there are many; failed steps,
 * however many, come below the devices and never push the verdicts away.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ReenrollmentVerdict } from '../../src/core/model.js';
import type { StepResult } from '../../src/core/plan-types.js';
import { SAFE_ACTIONS } from '../../src/core/selection.js';
import type { RunSummary } from '../../src/services/backend.js';
import { FakeBackend } from '../support/fake-backend.js';
import { demoData, deviceRow } from './fixtures.js';
import { type DrivenApp, KEYS, frame, press, renderApp, waitForText } from './helpers.js';

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

const N = 30;
const ids = Array.from({ length: N }, (_, i) => `meter-${String(i).padStart(2, '0')}`);

async function openSummary(fail: (stepId: string) => StepResult | undefined) {
  const data = demoData();
  data.devices = {
    ...data.devices,
    g1: ids.map((id, i) => deviceRow(id, i % 2 ? 'hub-us.azure-devices.net' : undefined)),
  };
  const verify: ReenrollmentVerdict[] = ids.map((registrationId) => ({
    registrationId,
    verdict: 'blocked',
    reason: 'Enrollment group g1, through which it registered, is disabled: DPS refuses it.',
    path: 'enrollmentGroups/g1',
  }));
  const backend = new FakeBackend({ ...data, verify });
  const planned = await backend.plan({ kind: 'group', groupId: 'g1' }, SAFE_ACTIONS);
  if (!planned.ok) throw new Error('plan refused');
  const handle = await backend.run(planned.plan);
  const results = planned.plan.steps.map(
    (s) => fail(s.id) ?? ({ stepId: s.id, outcome: 'succeeded', attempts: 1 } as StepResult),
  );
  const summary: RunSummary = {
    runId: handle.runId,
    journalPath: handle.journalPath,
    state: results.some((r) => r.outcome === 'failed') ? 'completedWithFailures' : 'completed',
    results,
    verify,
  };
  t = await renderApp(backend, {
    size: { columns: 80, rows: 24 },
    routes: [{ screen: 'enrollments' }, { screen: 'summary', plan: planned.plan, handle, summary }],
  });
  await waitForText(t, `Run ${handle.runId}`);
  return t;
}

describe('summary at 80x24', () => {
  it('one line per device with its hub status, the phase table kept on screen while the list scrolls', async () => {
    const t = await openSummary(() => undefined);
    const f = frame(t);
    expect(f).toContain('PHASE');
    expect(f).toMatch(/✓ blocked\s+meter-00\s+hub-eu: disabled\s+Enrollment group g1/);
    expect(f).toMatch(/✓ blocked\s+meter-01\s+hub-us: disabled\s+Enrollment group g1/);
    // One line each: the next device is on the very next line.
    const lines = f.split('\n');
    const at = lines.findIndex((l) => l.includes('meter-00'));
    expect(lines[at + 1]).toContain('meter-01');
    await press(t, KEYS.end);
    expect(frame(t)).toContain(`${ids.at(-1)}`);
    expect(frame(t)).toContain('PHASE');
  });

  it('a failed verify step and failed hub batches do not push the verdicts away', async () => {
    const t = await openSummary((id) => {
      if (id.startsWith('verify')) {
        return {
          stepId: id,
          outcome: 'failed',
          attempts: 3,
          message: 'DPS answered 503 Service Unavailable while reading the registration records back',
        };
      }
      if (id.startsWith('deregister')) {
        return { stepId: id, outcome: 'failed', attempts: 3, message: 'hub answered 500' };
      }
      return undefined;
    });
    const f = frame(t);
    expect(f).toContain('PHASE');
    expect(f).toMatch(/✗ \d+ steps failed: listed below the devices; r retries them\./);
    // The first devices' verdicts are on the first screen, with what failed on their hub.
    expect(f).toMatch(/✓ blocked\s+meter-00\s+hub-eu: FAILED/);
    expect(f).toContain('meter-05');
  });
});
