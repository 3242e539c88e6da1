import { describe, expect, it } from 'vitest';
import { PHASES, type Phase, type PlanStep } from '../../src/core/plan-types.js';
import {
  createRunActor,
  mayStartSteps,
  PHASE_STATE,
  progressOf,
  stateOf,
} from '../../src/core/run-machine.js';
import { RECENT_SIZE } from '../../src/core/run-progress.js';

const step = (phase: Phase, n: number, registrationIds: string[] = [`dev-${n}`]): PlanStep => ({
  id: `${phase}:${n}`,
  phase,
  op: { kind: 'deleteRegistration', registrationId: registrationIds[0] ?? 'x' },
  call: 'DELETE registrations/x',
  destructive: true,
  registrationIds,
});

/** One step per phase: snapshot:0, disenroll:0, deregister:0, cleanup:0, verify:0. */
const onePerPhase = (): PlanStep[] => PHASES.map((p) => step(p, 0));

const started = (steps: PlanStep[], settled?: Parameters<typeof createRunActor>[0]['settled']) => {
  const actor = createRunActor({ steps, startedAtMs: 1000, settled });
  actor.start();
  actor.send({ type: 'START' });
  return actor;
};

type Actor = ReturnType<typeof started>;
const succeed = (a: Actor, id: string) => {
  a.send({ type: 'STEP_STARTED', stepId: id });
  a.send({ type: 'STEP_SUCCEEDED', stepId: id });
};
const state = (a: Actor) => stateOf(a.getSnapshot());

describe('run machine: phases', () => {
  it('waits in pending until START, then shows the first phase with work', () => {
    const actor = createRunActor({ steps: onePerPhase(), startedAtMs: 0 });
    actor.start();
    expect(state(actor)).toBe('pending');
    expect(mayStartSteps(actor.getSnapshot())).toBe(false);
    actor.send({ type: 'START' });
    expect(state(actor)).toBe('snapshotting');
    expect(mayStartSteps(actor.getSnapshot())).toBe(true);
  });

  it('walks snapshotting -> disenrolling -> deregistering -> cleaningUp -> verifying -> completed', () => {
    const actor = started(onePerPhase());
    const seen: string[] = [state(actor)];
    for (const p of PHASES) {
      succeed(actor, `${p}:0`);
      seen.push(state(actor));
    }
    expect(seen).toEqual([
      'snapshotting',
      'disenrolling',
      'deregistering',
      'cleaningUp',
      'verifying',
      'completed',
    ]);
    expect(progressOf(actor.getSnapshot()).phase).toBeUndefined();
  });

  it('shows the earliest phase with unsettled steps even when a later phase is already running', () => {
    const steps = [step('disenroll', 0, ['a']), step('disenroll', 1, ['b']), step('deregister', 0, ['a'])];
    const actor = started(steps);
    succeed(actor, 'disenroll:0');
    // Device a moves on to its hub step while device b is still being disenrolled.
    actor.send({ type: 'STEP_STARTED', stepId: 'deregister:0' });
    expect(state(actor)).toBe('disenrolling');
    expect(progressOf(actor.getSnapshot()).phases.deregister.inFlight).toBe(1);
    succeed(actor, 'disenroll:1');
    expect(state(actor)).toBe('deregistering');
    actor.send({ type: 'STEP_SUCCEEDED', stepId: 'deregister:0' });
    expect(state(actor)).toBe('completed');
  });

  it('skips phases without steps and completes an empty plan at once', () => {
    const actor = started([step('cleanup', 0)]);
    expect(state(actor)).toBe('cleaningUp');
    expect(state(started([]))).toBe('completed');
  });

  it('ends in completedWithFailures when a step failed or was skipped', () => {
    const failed = started([step('disenroll', 0), step('deregister', 0)]);
    failed.send({ type: 'STEP_STARTED', stepId: 'disenroll:0' });
    failed.send({ type: 'STEP_FAILED', stepId: 'disenroll:0', message: 'refused' });
    expect(state(failed)).toBe('deregistering');
    failed.send({ type: 'STEP_SKIPPED', stepId: 'deregister:0', reason: 'its DPS blocker failed' });
    expect(state(failed)).toBe('completedWithFailures');
    const p = progressOf(failed.getSnapshot());
    expect(p.phases.disenroll.failed).toBe(1);
    expect(p.phases.deregister.skipped).toBe(1);
  });

  it('counts a bulk step with a failed device as failed, and already-done steps apart', () => {
    const actor = started([step('deregister', 0), step('deregister', 1)]);
    actor.send({ type: 'STEP_STARTED', stepId: 'deregister:0' });
    actor.send({
      type: 'STEP_SUCCEEDED',
      stepId: 'deregister:0',
      devices: [
        { id: 'a', outcome: 'succeeded' },
        { id: 'b', outcome: 'failed', message: 'InvalidETag' },
      ],
    });
    actor.send({ type: 'STEP_STARTED', stepId: 'deregister:1' });
    actor.send({ type: 'STEP_SUCCEEDED', stepId: 'deregister:1', alreadyDone: true });
    const p = progressOf(actor.getSnapshot());
    expect(p.phases.deregister).toMatchObject({ total: 2, done: 0, alreadyDone: 1, failed: 1, inFlight: 0 });
    expect(state(actor)).toBe('completedWithFailures');
  });

  it('counts a step once: a repeated outcome or an unknown step ID changes nothing', () => {
    const actor = started([step('cleanup', 0), step('cleanup', 1)]);
    succeed(actor, 'cleanup:0');
    actor.send({ type: 'STEP_FAILED', stepId: 'cleanup:0', message: 'late duplicate' });
    actor.send({ type: 'STEP_SUCCEEDED', stepId: 'cleanup:99' });
    expect(progressOf(actor.getSnapshot()).phases.cleanup).toMatchObject({ done: 1, failed: 0 });
    expect(state(actor)).toBe('cleaningUp');
  });

  it('starts settled when outcomes were already recorded (resume)', () => {
    const actor = started(onePerPhase(), [
      { stepId: 'snapshot:0', outcome: 'succeeded', attempts: 0 },
      { stepId: 'disenroll:0', outcome: 'alreadyDone', attempts: 1 },
    ]);
    expect(state(actor)).toBe('deregistering');
    expect(progressOf(actor.getSnapshot()).phases.disenroll.alreadyDone).toBe(1);
  });
});

describe('run machine: pause, abort, retry', () => {
  it('pause keeps recording in-flight calls, starts nothing new, and resume picks the right phase', () => {
    const actor = started([step('disenroll', 0), step('deregister', 0)]);
    actor.send({ type: 'STEP_STARTED', stepId: 'disenroll:0' });
    actor.send({ type: 'PAUSE_REQUESTED' });
    expect(state(actor)).toBe('paused');
    expect(mayStartSteps(actor.getSnapshot())).toBe(false);
    actor.send({ type: 'STEP_SUCCEEDED', stepId: 'disenroll:0' });
    expect(state(actor)).toBe('paused');
    expect(progressOf(actor.getSnapshot()).phase).toBe('deregister');
    actor.send({ type: 'RESUME_REQUESTED' });
    expect(state(actor)).toBe('deregistering');
  });

  it('resuming after every step settled during the pause completes the run', () => {
    const actor = started([step('cleanup', 0)]);
    actor.send({ type: 'STEP_STARTED', stepId: 'cleanup:0' });
    actor.send({ type: 'PAUSE_REQUESTED' });
    actor.send({ type: 'STEP_SUCCEEDED', stepId: 'cleanup:0' });
    actor.send({ type: 'RESUME_REQUESTED' });
    expect(state(actor)).toBe('completed');
  });

  it('pause from pending holds the start until resume', () => {
    const actor = createRunActor({ steps: [step('verify', 0)], startedAtMs: 0 });
    actor.start();
    actor.send({ type: 'PAUSE_REQUESTED' });
    expect(state(actor)).toBe('paused');
    actor.send({ type: 'RESUME_REQUESTED' });
    expect(state(actor)).toBe('verifying');
  });

  for (const phase of PHASES) {
    it(`abort while ${PHASE_STATE[phase]}: waits for in-flight calls, then aborted`, () => {
      const steps = PHASES.map((p) => step(p, 0));
      const actor = started(steps);
      for (const p of PHASES.slice(0, PHASES.indexOf(phase))) succeed(actor, `${p}:0`);
      expect(state(actor)).toBe(PHASE_STATE[phase]);
      actor.send({ type: 'STEP_STARTED', stepId: `${phase}:0` });
      actor.send({ type: 'ABORT_REQUESTED' });
      expect(state(actor)).toBe('aborting');
      expect(mayStartSteps(actor.getSnapshot())).toBe(false);
      actor.send({ type: 'STEP_SUCCEEDED', stepId: `${phase}:0` });
      expect(progressOf(actor.getSnapshot()).phases[phase]).toMatchObject({ done: 1, inFlight: 0 });
      expect(state(actor)).toBe('aborting');
      actor.send({ type: 'IN_FLIGHT_SETTLED' });
      expect(state(actor)).toBe('aborted');
    });
  }

  it('abort from pending ends at once; abort from paused goes through aborting', () => {
    const pending = createRunActor({ steps: [step('cleanup', 0)], startedAtMs: 0 });
    pending.start();
    pending.send({ type: 'ABORT_REQUESTED' });
    expect(state(pending)).toBe('aborted');
    const paused = started([step('cleanup', 0)]);
    paused.send({ type: 'PAUSE_REQUESTED' });
    paused.send({ type: 'ABORT_REQUESTED' });
    expect(state(paused)).toBe('aborting');
    paused.send({ type: 'IN_FLIGHT_SETTLED' });
    expect(state(paused)).toBe('aborted');
  });

  it('a released step (stopped while waiting to retry) is pending again', () => {
    const actor = started([step('cleanup', 0)]);
    actor.send({ type: 'STEP_STARTED', stepId: 'cleanup:0' });
    actor.send({ type: 'ABORT_REQUESTED' });
    actor.send({ type: 'STEP_RELEASED', stepId: 'cleanup:0' });
    expect(progressOf(actor.getSnapshot()).phases.cleanup).toMatchObject({ inFlight: 0, done: 0, failed: 0 });
    actor.send({ type: 'IN_FLIGHT_SETTLED' });
    expect(state(actor)).toBe('aborted');
    expect(progressOf(actor.getSnapshot()).phase).toBe('cleanup');
  });

  it('retry-failed from completedWithFailures puts failed and skipped steps back to pending', () => {
    const actor = started([step('disenroll', 0), step('deregister', 0), step('deregister', 1, ['other'])]);
    actor.send({ type: 'STEP_STARTED', stepId: 'disenroll:0' });
    actor.send({ type: 'STEP_FAILED', stepId: 'disenroll:0', message: 'x' });
    actor.send({ type: 'STEP_SKIPPED', stepId: 'deregister:0', reason: 'its DPS blocker failed' });
    succeed(actor, 'deregister:1');
    expect(state(actor)).toBe('completedWithFailures');
    actor.send({ type: 'RETRY_FAILED_REQUESTED' });
    expect(state(actor)).toBe('disenrolling');
    const p = progressOf(actor.getSnapshot());
    expect(p.phases.disenroll).toMatchObject({ failed: 0, done: 0 });
    expect(p.phases.deregister).toMatchObject({ skipped: 0, done: 1 });
    succeed(actor, 'disenroll:0');
    succeed(actor, 'deregister:0');
    expect(state(actor)).toBe('completed');
  });

  it('retry-failed from aborted continues with the steps that never ran', () => {
    const actor = started([step('cleanup', 0), step('cleanup', 1)]);
    succeed(actor, 'cleanup:0');
    actor.send({ type: 'ABORT_REQUESTED' });
    actor.send({ type: 'IN_FLIGHT_SETTLED' });
    expect(state(actor)).toBe('aborted');
    actor.send({ type: 'RETRY_FAILED_REQUESTED' });
    expect(state(actor)).toBe('cleaningUp');
  });

  it('ignores retry-failed and step events where they do not apply', () => {
    const actor = started([step('cleanup', 0)]);
    actor.send({ type: 'RETRY_FAILED_REQUESTED' });
    actor.send({ type: 'IN_FLIGHT_SETTLED' });
    expect(state(actor)).toBe('cleaningUp');
  });
});

describe('run machine: progress', () => {
  it('reports throttling with its deadline, and clears it', () => {
    const actor = started([step('cleanup', 0)]);
    actor.send({ type: 'THROTTLED', service: 'dps.example', waitMs: 5000, atMs: 20_000 });
    expect(progressOf(actor.getSnapshot()).throttled).toEqual({ service: 'dps.example', untilMs: 25_000 });
    actor.send({ type: 'THROTTLE_CLEARED', service: 'dps.example' });
    expect(progressOf(actor.getSnapshot()).throttled).toBeUndefined();
    expect(progressOf(actor.getSnapshot()).startedAtMs).toBe(1000);
  });

  it('keeps the latest results in a bounded ring, newest last, one entry per device of a bulk step', () => {
    const steps = Array.from({ length: 30 }, (_, n) => step('cleanup', n));
    steps.push({
      id: 'deregister:0',
      phase: 'deregister',
      op: { kind: 'deleteHubDevices', hub: 'h', deviceIds: ['d1', 'd2'] },
      call: 'POST /devices',
      destructive: true,
      registrationIds: ['d1', 'd2'],
    });
    const actor = started(steps);
    actor.send({
      type: 'STEP_SUCCEEDED',
      stepId: 'deregister:0',
      devices: [
        { id: 'd1', outcome: 'succeeded' },
        { id: 'd2', outcome: 'alreadyDone', message: 'not on the hub' },
      ],
    });
    for (let n = 0; n < 30; n++) succeed(actor, `cleanup:${n}`);
    const { recent } = progressOf(actor.getSnapshot());
    expect(recent).toHaveLength(RECENT_SIZE);
    expect(recent.at(-1)).toMatchObject({ stepId: 'cleanup:29', label: 'delete registration record dev-29' });
    expect(recent[0].stepId).toBe(`cleanup:${30 - RECENT_SIZE}`);

    const fresh = started(steps);
    fresh.send({
      type: 'STEP_SUCCEEDED',
      stepId: 'deregister:0',
      devices: [
        { id: 'd1', outcome: 'succeeded' },
        { id: 'd2', outcome: 'alreadyDone', message: 'not on the hub' },
      ],
    });
    expect(progressOf(fresh.getSnapshot()).recent).toEqual([
      { stepId: 'deregister:0', label: 'd1', outcome: 'succeeded', message: undefined },
      { stepId: 'deregister:0', label: 'd2', outcome: 'alreadyDone', message: 'not on the hub' },
    ]);
  });

  it('holds a 100,000-step run: counters and final state are exact', () => {
    const n = 100_000;
    const steps: PlanStep[] = [];
    for (let i = 0; i < n; i++) steps.push(step(i % 2 === 0 ? 'deregister' : 'cleanup', i));
    const actor = started(steps);
    for (let i = 0; i < n; i++) {
      const id = steps[i].id;
      actor.send({ type: 'STEP_STARTED', stepId: id });
      if (i % 1000 === 999) actor.send({ type: 'STEP_FAILED', stepId: id, message: 'refused' });
      else if (i % 1000 === 500) actor.send({ type: 'STEP_SUCCEEDED', stepId: id, alreadyDone: true });
      else actor.send({ type: 'STEP_SUCCEEDED', stepId: id });
    }
    const p = progressOf(actor.getSnapshot());
    expect(p.phases.deregister).toEqual({
      total: 50_000,
      done: 49_900,
      alreadyDone: 100,
      failed: 0,
      skipped: 0,
      inFlight: 0,
    });
    expect(p.phases.cleanup).toEqual({
      total: 50_000,
      done: 49_900,
      alreadyDone: 0,
      failed: 100,
      skipped: 0,
      inFlight: 0,
    });
    expect(p.recent).toHaveLength(RECENT_SIZE);
    expect(state(actor)).toBe('completedWithFailures');
  });
});
