import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resumeRun } from '../../src/services/executor/index.js';
import { openJournal, reopenJournal } from '../../src/services/journal/index.js';
import { throttled, transient, until } from './fakes.js';
import { HUB_A, HUB_B, type Harness, harness, seed } from './harness.js';
import { groupDevicesPlan, wholeGroupPlan } from './plans.js';

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

/** Every destructive call the fakes saw, by target. */
const destructiveCalls = (h: Harness): string[] =>
  [...h.dps.script.calls, ...h.hubA.script.calls, ...h.hubB.script.calls].filter((c) =>
    /^(createBlocker|deleteRegistration|deleteDevices|disableDevices|setGroupStatus|deleteGroup):/.test(c),
  );

describe('executor: abort and pause', () => {
  it('abort lets the in-flight call finish, starts nothing new, journals aborted', async () => {
    seed(h, [A, B]);
    const release = h.dps.script.gate('createBlocker:dev-a');
    const blockB = h.dps.script.gate('createBlocker:dev-b');
    const handle = await h.start(groupDevicesPlan([A, B]));
    await until(() => h.dps.script.count('createBlocker:dev-b') === 1, 'both blockers in flight');
    handle.abort();
    expect(handle.progress().state).toBe('aborting');
    release();
    blockB();
    const summary = await handle.done;
    expect(summary.state).toBe('aborted');
    // Both in-flight blockers finished and were recorded; nothing after them started.
    expect(summary.results.filter((r) => r.stepId.startsWith('disenroll')).map((r) => r.outcome)).toEqual([
      'succeeded',
      'succeeded',
    ]);
    expect(h.hubA.bulkCalls).toEqual([]);
    expect(h.dps.script.count('deleteRegistration:dev-a')).toBe(0);
    const j = await h.journal(summary.journalPath);
    expect(j.endState).toBe('aborted');
    expect(j.unknownSteps).toEqual([]);
  });

  it('an AbortSignal (Ctrl-C) aborts the same way, also while a step waits to retry', async () => {
    seed(h, [A]);
    h.dps.script.fail('deleteRegistration:dev-a', throttled(60_000));
    const ctrl = new AbortController();
    const handle = await h.start(groupDevicesPlan([A]), { signal: ctrl.signal });
    await until(() => h.dps.script.count('deleteRegistration:dev-a') === 1, 'the throttled call');
    ctrl.abort();
    const summary = await handle.done;
    expect(summary.state).toBe('aborted');
    expect(h.dps.script.count('deleteRegistration:dev-a')).toBe(1);
    // It stopped between attempts: no outcome, so a resume re-checks it by reading first.
    const j = await h.journal(summary.journalPath);
    expect(j.unknownSteps).toEqual(['cleanup:0']);
    expect(handle.progress().phases.cleanup).toMatchObject({ inFlight: 0, failed: 0 });
  });

  it('pause starts nothing new until resume; in-flight calls finish meanwhile', async () => {
    seed(h, [A]);
    const release = h.dps.script.gate('createBlocker:dev-a');
    const handle = await h.start(groupDevicesPlan([A]));
    await until(() => h.dps.script.count('createBlocker:dev-a') === 1, 'the blocker call');
    handle.pause();
    release();
    await until(() => handle.progress().phases.disenroll.done === 1, 'the blocker to settle');
    await new Promise((r) => setTimeout(r, 20));
    expect(handle.progress().state).toBe('paused');
    expect(h.hubA.bulkCalls).toEqual([]);
    handle.resume();
    expect((await handle.done).state).toBe('completed');
    expect(h.hubA.bulkCalls).toHaveLength(1);
  });

  it('retry-failed reruns failed steps (only the failed devices of a batch) and dependents', async () => {
    seed(h, [A, C]);
    h.hubA.deviceErrors.set('dev-c', 'ThrottlingBacklogTimeout');
    const handle = await h.start(groupDevicesPlan([A, C]), { limits: { timeScale: 1000, maxAttempts: 2 } });
    const first = await handle.done;
    expect(first.state).toBe('completedWithFailures');
    expect(h.dps.registrations.has('dev-c')).toBe(true);
    handle.retryFailed();
    const second = await handle.done;
    expect(second.state).toBe('completed');
    expect(h.hubA.bulkCalls).toEqual([
      { kind: 'deleteDevices', ids: ['dev-a', 'dev-c'] },
      { kind: 'deleteDevices', ids: ['dev-c'] },
    ]);
    expect(h.dps.registrations.has('dev-c')).toBe(false);
    expect(second.results.find((r) => r.stepId === 'deregister:0')?.devices).toEqual([
      { id: 'dev-a', outcome: 'succeeded' },
      { id: 'dev-c', outcome: 'succeeded' },
    ]);
    const j = await h.journal(second.journalPath);
    expect(j.endState).toBe('completed');
  });
});

describe('executor: resume from the journal', () => {
  it('never repeats a call that took effect: an aborted run, resumed, makes each call once', async () => {
    seed(h, [A, B, C]);
    const plan = wholeGroupPlan([A, B, C], { deleteGroup: true });
    const release = h.hubA.script.gate('disableDevices');
    const handle = await h.start(plan);
    await until(() => h.hubA.bulkCalls.length === 1, 'the hub-a batch in flight');
    handle.abort();
    release();
    const aborted = await handle.done;
    expect(aborted.state).toBe('aborted');

    const resumed = await resumeRun(aborted.journalPath, h.options());
    const summary = await resumed.done;
    expect(summary.state).toBe('completed');
    expect(resumed.runId).toBe(aborted.runId);
    const calls = destructiveCalls(h);
    expect(calls.filter((c) => c === 'setGroupStatus:g1')).toHaveLength(1);
    expect(calls.filter((c) => c === 'disableDevices:dev-a')).toHaveLength(1);
    expect(calls.filter((c) => c === 'disableDevices:dev-b')).toHaveLength(1);
    for (const d of ['dev-a', 'dev-b', 'dev-c'])
      expect(calls.filter((c) => c === `deleteRegistration:${d}`)).toHaveLength(1);
    expect(calls.filter((c) => c === 'deleteGroup:g1')).toHaveLength(1);
    expect(h.dps.groups.has('g1')).toBe(false);
  });

  it('re-checks a step with an intent but no outcome by reading first; calls only if needed', async () => {
    seed(h, [A, B, C]);
    const plan = groupDevicesPlan([A, B, C]);
    // A crashed session: blockers written for a and c; the process died during the record deletes.
    const journal = await openJournal(
      { target: { dpsHost: h.dps.host, hubHosts: [HUB_A, HUB_B] }, plan },
      { env: h.env },
    );
    for (const [k, d] of [A, B, C].entries()) {
      await journal.appendIntent(`disenroll:${k}`, 1, 'createBlocker');
      if (d !== B) {
        h.dps.enrollments.set(d.reg, {
          registrationId: d.reg,
          attestation: { type: 'symmetricKey' },
          provisioningStatus: 'disabled',
        });
      }
      // b's intent was written, its call never made; a's outcome was written.
      if (d === A)
        await journal.appendOutcome({ stepId: 'disenroll:0', outcome: 'succeeded', attempts: 1 }, true);
    }
    await journal.appendEnd('interrupted');
    await journal.close();

    const resumed = await resumeRun(journal.path, h.options());
    const summary = await resumed.done;
    expect(summary.state).toBe('completed');
    const byId = new Map(summary.results.map((r) => [r.stepId, r]));
    // a: outcome recorded, not touched. c: read, found disabled, not written. b: read, then written.
    expect(h.dps.script.count('createBlocker:dev-a')).toBe(0);
    expect(h.dps.script.count('getEnrollment:dev-a')).toBe(0);
    expect(h.dps.script.count('createBlocker:dev-c')).toBe(0);
    expect(byId.get('disenroll:2')).toMatchObject({ outcome: 'alreadyDone' });
    expect(h.dps.script.count('createBlocker:dev-b')).toBe(1);
    expect(byId.get('disenroll:1')).toMatchObject({ outcome: 'succeeded' });
    const j = await h.journal(journal.path);
    expect(j.attempts.get('disenroll:1')).toBe(2);
    expect(j.endState).toBe('completed');
  });

  it('re-checks hub devices and registration records before acting on an unknown step', async () => {
    seed(h, [A, C]);
    const plan = groupDevicesPlan([A, C]);
    const journal = await openJournal(
      { target: { dpsHost: h.dps.host, hubHosts: [HUB_A] }, plan },
      { env: h.env },
    );
    for (const id of ['snapshot:0', 'disenroll:0', 'disenroll:1']) {
      await journal.appendOutcome({ stepId: id, outcome: 'succeeded', attempts: 1 }, true);
    }
    await journal.appendIntent('deregister:0', 1, 'deleteDevices');
    await journal.close();
    // The hub deleted dev-a before the crash; dev-c is still there.
    h.hubA.devices.delete('dev-a');
    const summary = await (await resumeRun(journal.path, h.options())).done;
    expect(h.hubA.bulkCalls).toEqual([{ kind: 'deleteDevices', ids: ['dev-c'] }]);
    expect(summary.results.find((r) => r.stepId === 'deregister:0')?.devices).toEqual([
      { id: 'dev-a', outcome: 'alreadyDone', message: 'already deleted' },
      { id: 'dev-c', outcome: 'succeeded' },
    ]);
  });

  it('resumes a run whose outcomes were failures only when asked to retry them', async () => {
    seed(h, [A]);
    h.dps.script.fail('deleteRegistration:dev-a', ...Array.from({ length: 8 }, transient));
    const first = await (await h.start(groupDevicesPlan([A]))).done;
    expect(first.state).toBe('completedWithFailures');
    const plain = await (await resumeRun(first.journalPath, h.options())).done;
    expect(plain.state).toBe('completedWithFailures');
    expect(h.dps.script.count('deleteRegistration:dev-a')).toBe(8);
    const retried = await (await resumeRun(first.journalPath, { ...h.options(), retryFailed: true })).done;
    expect(retried.state).toBe('completed');
    expect(h.dps.script.count('deleteRegistration:dev-a')).toBe(9);
  });

  it('refuses a journal without a plan, with what to do', async () => {
    const plan = groupDevicesPlan([A]);
    const journal = await openJournal(
      { target: { dpsHost: h.dps.host, hubHosts: [] }, plan },
      { env: h.env },
    );
    await journal.close();
    const { readFile, writeFile } = await import('node:fs/promises');
    const header = (await readFile(journal.path, 'utf8')).split('\n')[0];
    await writeFile(journal.path, `${header}\n`);
    await expect(resumeRun(journal.path, h.options())).rejects.toThrow(
      /stopped before its plan was journaled/,
    );
    // reopenJournal on the same file still appends (the journal stays usable for evidence).
    const again = await reopenJournal(journal.path, 'x', false, { env: h.env });
    await again.close();
  });
});
