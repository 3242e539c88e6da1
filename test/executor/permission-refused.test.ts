/**
 * Issue 14 §5: a changing call refused for the credential or its permission (401/403) stops the run
 * before any other change: no new call starts (calls in flight finish), the run ends aborted with the
 * refusal, and a resume after the permission is granted finishes it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { resumeRun } from '../../src/services/executor/index.js';
import { HUB_A, HUB_B, type Harness, harness, seed } from './harness.js';
import { groupDevicesPlan } from './plans.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.cleanup();
});

const DEVICES = [
  { reg: 'dev-a', hub: HUB_A },
  { reg: 'dev-b', hub: HUB_B },
  { reg: 'dev-c', hub: HUB_A },
];
const refused = (kind: 'unauthorized' | 'forbidden') =>
  new ServiceError(
    kind,
    `create blocker on dps failed: ${kind === 'forbidden' ? 403 : 401} (lacks EnrollmentWrite)`,
    {
      status: kind === 'forbidden' ? 403 : 401,
    },
  );
const changes = (h: Harness): string[] =>
  [...h.dps.script.calls, ...h.hubA.script.calls, ...h.hubB.script.calls].filter((c) =>
    /^(createBlocker|deleteRegistration|deleteDevices|disableDevices|setDevicesStatus|writeStatus|setGroupStatus|deleteGroup)/.test(
      c,
    ),
  );

describe('executor: a refused change stops the run', () => {
  it.each(['unauthorized', 'forbidden'] as const)(
    'a %s first change: nothing else is sent, the run ends aborted with the refusal',
    async (kind) => {
      seed(h, DEVICES);
      for (const d of DEVICES) h.dps.script.fail(`createBlocker:${d.reg}`, refused(kind));
      const handle = await h.start(groupDevicesPlan(DEVICES), {
        limits: { timeScale: 1000, callTimeoutMs: 5_000, maxInFlightPerService: 1 },
      });
      const summary = await handle.done;
      expect(summary.state).toBe('aborted');
      expect(summary.refusal).toContain('lacks EnrollmentWrite');
      // One call at a time: the first was refused, and no other change was even sent.
      expect(changes(h)).toEqual(['createBlocker:dev-a']);
      expect([...h.hubA.script.calls, ...h.hubB.script.calls].filter((c) => !c.startsWith('get'))).toEqual(
        [],
      );
    },
  );

  it('granted afterwards, a resume finishes the run', async () => {
    seed(h, DEVICES);
    h.dps.script.fail('createBlocker:dev-a', refused('forbidden'));
    const handle = await h.start(groupDevicesPlan(DEVICES), {
      limits: { timeScale: 1000, callTimeoutMs: 5_000, maxInFlightPerService: 1 },
    });
    const first = await handle.done;
    expect(first.state).toBe('aborted');
    const resumed = await resumeRun(first.journalPath, { ...h.options(), retryFailed: true });
    const summary = await resumed.done;
    expect(summary.state).toBe('completed');
    expect(summary.refusal).toBeUndefined();
    for (const d of DEVICES) expect(h.dps.enrollments.get(d.reg)?.provisioningStatus).toBe('disabled');
  });
});
