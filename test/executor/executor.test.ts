import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { badRequest, notFound, throttled, transient, until } from './fakes.js';
import { HUB_A, HUB_B, type Harness, harness, seed } from './harness.js';
import { groupDevicesPlan, planOf, wholeGroupPlan } from './plans.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.cleanup();
});

const A = { reg: 'dev-a', hub: HUB_A };
const B = { reg: 'dev-b', hub: HUB_B };
const C = { reg: 'dev-c', hub: HUB_A };

describe('executor: order and outcomes', () => {
  it('runs each device blocker -> hub -> registration record, then verify; journals every call', async () => {
    seed(h, [A, B, C]);
    const handle = await h.start(groupDevicesPlan([A, B, C]));
    const summary = await handle.done;
    expect(summary.state).toBe('completed');
    const calls = [...h.dps.script.calls, ...h.hubA.script.calls, ...h.hubB.script.calls];
    for (const d of [A, B, C]) {
      const dpsCalls = h.dps.script.calls;
      const hub = d.hub === HUB_A ? h.hubA : h.hubB;
      expect(h.dps.enrollments.get(d.reg)?.provisioningStatus).toBe('disabled');
      expect(hub.devices.has(d.reg)).toBe(false);
      expect(h.dps.registrations.has(d.reg)).toBe(false);
      expect(h.dps.script.count(`createBlocker:${d.reg}`)).toBe(1);
      expect(calls.filter((c) => c === `deleteDevices:${d.reg}`)).toHaveLength(1);
      // The blocker is written and re-read before the record that the hub step needed is deleted.
      expect(dpsCalls.indexOf(`createBlocker:${d.reg}`)).toBeLessThan(
        dpsCalls.indexOf(`getEnrollment:${d.reg}`),
      );
      expect(dpsCalls.indexOf(`getEnrollment:${d.reg}`)).toBeLessThan(
        dpsCalls.indexOf(`deleteRegistration:${d.reg}`),
      );
    }
    expect(h.verifyCalls).toEqual([['dev-a', 'dev-b', 'dev-c']]);
    expect(summary.verify.map((v) => v.verdict)).toEqual(['blocked', 'blocked', 'blocked']);

    const j = await h.journal(summary.journalPath);
    expect(j.endState).toBe('completed');
    expect(j.unknownSteps).toEqual([]);
    expect([...j.results.values()].every((r) => r.outcome === 'succeeded')).toBe(true);
    expect(j.results.get('deregister:0')?.devices?.map((d) => d.id)).toEqual(['dev-a', 'dev-c']);
    expect(j.verdicts.get('verify:0')).toHaveLength(3);
    expect(j.attempts.get('disenroll:0')).toBe(1);
    const last = h.seen.at(-1)!;
    expect(last.state).toBe('completed');
    expect(last.phases.disenroll).toMatchObject({ total: 3, done: 3 });
  });

  it('writes the intent durably before each destructive call and the outcome after it', async () => {
    seed(h, [A]);
    const plan = groupDevicesPlan([A]);
    const handle = await h.start(plan);
    const release = h.dps.script.gate('deleteRegistration:dev-a');
    await until(() => h.dps.script.count('deleteRegistration:dev-a') === 1, 'the record delete');
    // While the call is in flight, its intent is on disk and its outcome is not.
    const during = await h.journal(handle.journalPath);
    expect(during.unknownSteps).toEqual(['cleanup:0']);
    expect(during.results.has('cleanup:0')).toBe(false);
    release();
    await handle.done;
    const after = await h.journal(handle.journalPath);
    expect(after.results.get('cleanup:0')?.outcome).toBe('succeeded');
  });

  it('works across devices and hubs concurrently: one slow blocker does not hold the others', async () => {
    seed(h, [A, B]);
    const release = h.dps.script.gate('createBlocker:dev-a');
    const handle = await h.start(groupDevicesPlan([A, B]));
    await until(() => h.dps.script.count('deleteRegistration:dev-b') === 1, "b's record delete");
    expect(h.hubA.bulkCalls).toEqual([]);
    expect(handle.progress().state).toBe('disenrolling');
    release();
    expect((await handle.done).state).toBe('completed');
    expect(h.hubA.bulkCalls).toEqual([{ kind: 'deleteDevices', ids: ['dev-a'] }]);
  });

  it('skips what depends on a failed step, naming the cause, and lets other devices finish', async () => {
    seed(h, [A, B]);
    h.dps.script.fail('createBlocker:dev-a', badRequest('attestation rejected'));
    const summary = await (await h.start(groupDevicesPlan([A, B]))).done;
    expect(summary.state).toBe('completedWithFailures');
    const byId = new Map(summary.results.map((r) => [r.stepId, r]));
    expect(byId.get('disenroll:0')).toMatchObject({
      outcome: 'failed',
      message: expect.stringMatching(/attestation rejected/),
    });
    expect(byId.get('deregister:0')).toMatchObject({
      outcome: 'skipped',
      message: 'not deleted on the hub: its DPS blocker failed',
    });
    expect(byId.get('cleanup:0')).toMatchObject({
      outcome: 'skipped',
      message: 'registration record dev-a not deleted: its DPS blocker failed',
    });
    expect(byId.get('cleanup:1')?.outcome).toBe('succeeded');
    // Verify still runs: it reads, and after a failure the truth matters most.
    expect(byId.get('verify:0')?.outcome).toBe('succeeded');
    expect(h.hubA.devices.has('dev-a')).toBe(true);
    expect(h.dps.registrations.has('dev-a')).toBe(true);
    const j = await h.journal(summary.journalPath);
    expect(j.results.get('deregister:0')?.outcome).toBe('skipped');
  });

  it('fails a blocker that comes back enabled, loudly, and does not touch that device further', async () => {
    seed(h, [A]);
    h.dps.blockersComeBackEnabled.add('dev-a');
    const summary = await (await h.start(groupDevicesPlan([A]))).done;
    const byId = new Map(summary.results.map((r) => [r.stepId, r]));
    expect(byId.get('disenroll:0')).toMatchObject({
      outcome: 'failed',
      message: 'blocker came back enabled for dev-a: the device could re-enroll',
    });
    expect(byId.get('deregister:0')?.outcome).toBe('skipped');
    expect(h.hubA.bulkCalls).toEqual([]);
  });

  it('treats what is already in the intended state as alreadyDone', async () => {
    seed(h, [A, C]);
    h.dps.groups.get('g1')!.provisioningStatus = 'disabled';
    h.dps.registrations.delete('dev-c');
    h.hubA.devices.delete('dev-a');
    const summary = await (await h.start(wholeGroupPlan([A, C]))).done;
    const byId = new Map(summary.results.map((r) => [r.stepId, r]));
    expect(byId.get('disenroll:0')).toMatchObject({ outcome: 'alreadyDone', attempts: 0 });
    expect(h.dps.script.count('setGroupStatus:g1')).toBe(0);
    expect(byId.get('deregister:0')?.devices).toEqual([
      { id: 'dev-a', outcome: 'alreadyDone', message: 'not on the hub' },
      { id: 'dev-c', outcome: 'succeeded' },
    ]);
    expect(byId.get('cleanup:1')).toMatchObject({ outcome: 'alreadyDone' });
    expect(summary.state).toBe('completed');
    expect(summary.restoreCommand).toBe(`iot-deprovision restore ${summary.runId} --yes`);
  });

  it('a partly failed hub batch fails only its failed devices: the others go on to cleanup', async () => {
    seed(h, [A, C]);
    h.hubA.deviceErrors.set('dev-c', 'PreconditionFailed');
    const summary = await (await h.start(groupDevicesPlan([A, C]))).done;
    const byId = new Map(summary.results.map((r) => [r.stepId, r]));
    expect(byId.get('deregister:0')).toMatchObject({
      outcome: 'failed',
      message: `1 of 2 devices not deleted on ${HUB_A}`,
      devices: [
        { id: 'dev-a', outcome: 'succeeded' },
        { id: 'dev-c', outcome: 'failed', message: 'PreconditionFailed for dev-c' },
      ],
    });
    expect(byId.get('cleanup:0')?.outcome).toBe('succeeded');
    expect(byId.get('cleanup:1')).toMatchObject({
      outcome: 'skipped',
      message: expect.stringMatching(/hub step/),
    });
  });

  it('fails hub steps for hubs without credentials, with what to do', async () => {
    seed(h, [A]);
    const plan = groupDevicesPlan([{ reg: 'dev-a', hub: 'hub-x.azure-devices.net' }]);
    const summary = await (await h.start(plan)).done;
    const hubStep = summary.results.find((r) => r.stepId === 'deregister:0');
    expect(hubStep?.message).toMatch(/no credentials for hub hub-x.azure-devices.net: give --hub/);
  });

  it('marks verify failed when a device could provision again (not for a restore)', async () => {
    seed(h, [A]);
    h.verdicts = (ids) =>
      ids.map((registrationId) => ({
        registrationId,
        verdict: 'allowed',
        reason: 'group g2 is enabled',
        path: 'enrollmentGroups/g2',
      }));
    const summary = await (await h.start(groupDevicesPlan([A]))).done;
    expect(summary.results.find((r) => r.stepId === 'verify:0')).toMatchObject({
      outcome: 'failed',
      message: 'dev-a could provision again: group g2 is enabled',
    });
    const restore = { ...groupDevicesPlan([]), restoreOf: '20261129T013000Z-aaaaaa' };
    restore.steps = [restore.steps.at(-1)!];
    restore.steps[0].op = { kind: 'verify', registrationIds: ['dev-a'] };
    const restored = await (await h.start(restore)).done;
    expect(restored.state).toBe('completed');
  });
});

describe('executor: retries', () => {
  it('waits out a 429 (Retry-After), reports throttling, and succeeds on the next attempt', async () => {
    seed(h, [A]);
    h.dps.script.fail('deleteRegistration:dev-a', throttled(30));
    const summary = await (await h.start(groupDevicesPlan([A]))).done;
    expect(summary.results.find((r) => r.stepId === 'cleanup:0')).toMatchObject({
      outcome: 'succeeded',
      attempts: 2,
    });
    expect(h.seen.some((p) => p.throttled?.service === h.dps.host)).toBe(true);
    expect(h.seen.at(-1)?.throttled).toBeUndefined();
    const j = await h.journal(summary.journalPath);
    expect(j.attempts.get('cleanup:0')).toBe(2);
  });

  it('retries transient failures with backoff, up to the attempt limit', async () => {
    seed(h, [A, C]);
    h.dps.script.fail('deleteRegistration:dev-a', transient(), transient());
    h.dps.script.fail('deleteRegistration:dev-c', ...Array.from({ length: 10 }, transient));
    const summary = await (await h.start(groupDevicesPlan([A, C]))).done;
    const byId = new Map(summary.results.map((r) => [r.stepId, r]));
    expect(byId.get('cleanup:0')).toMatchObject({ outcome: 'succeeded', attempts: 3 });
    expect(byId.get('cleanup:1')).toMatchObject({ outcome: 'failed', attempts: 8 });
    expect(byId.get('cleanup:1')?.message).toMatch(/Service unavailable/);
    expect(h.dps.script.count('deleteRegistration:dev-c')).toBe(8);
  });

  it('retries an ETag conflict at once, and does not retry a refusal', async () => {
    seed(h, [A]);
    h.dps.addEnrollment('ind-1');
    h.dps.script.fail(
      'setEnrollmentStatus:ind-1',
      new (await import('../../src/core/errors.js')).ServiceError('preconditionFailed', 'etag'),
    );
    h.dps.script.fail('deleteRegistration:dev-a', badRequest());
    const plan = planOf(
      { kind: 'enrollment', registrationId: 'ind-1' },
      { disenroll: 'disable', deregister: 'none', deleteRegistrations: false, deleteGroup: false },
      [
        {
          phase: 'disenroll',
          op: { kind: 'disableEnrollment', registrationId: 'ind-1' },
          registrationIds: ['ind-1'],
        },
        {
          phase: 'cleanup',
          op: { kind: 'deleteRegistration', registrationId: 'dev-a' },
          registrationIds: ['dev-a'],
        },
      ],
      [],
    );
    const summary = await (await h.start(plan)).done;
    const byId = new Map(summary.results.map((r) => [r.stepId, r]));
    expect(byId.get('disenroll:0')).toMatchObject({ outcome: 'succeeded', attempts: 2 });
    expect(h.dps.enrollments.get('ind-1')?.provisioningStatus).toBe('disabled');
    expect(byId.get('cleanup:0')).toMatchObject({ outcome: 'failed', attempts: 1 });
  });

  it('a delete answered 404 is alreadyDone, not failed', async () => {
    h.dps.addEnrollment('ind-2');
    h.dps.script.fail('deleteEnrollment:ind-2', notFound());
    const plan = planOf(
      { kind: 'enrollment', registrationId: 'ind-2' },
      { disenroll: 'delete', deregister: 'none', deleteRegistrations: false, deleteGroup: false },
      [
        {
          phase: 'disenroll',
          op: { kind: 'deleteEnrollment', registrationId: 'ind-2' },
          registrationIds: ['ind-2'],
        },
      ],
      [],
    );
    const summary = await (await h.start(plan)).done;
    expect(summary.results[0]).toMatchObject({ outcome: 'alreadyDone', attempts: 1 });
    expect(summary.restoreCommand).toBeUndefined();
  });
});
