import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import type { KnownState } from '../../src/core/model.js';
import type { Plan, PlanResult } from '../../src/core/plan-types.js';
import type { Actions, Selection } from '../../src/core/selection.js';
import type { RunHandle } from '../../src/services/backend.js';
import {
  DeprovisionSession,
  previewOf,
  previewRestoreOf,
} from '../../src/services/session/deprovision-session.js';
import { FakeBackend, type FakeRun } from '../support/fake-backend.js';

const BEFORE: KnownState = {
  individualEnrollments: [],
  enrollmentGroups: [
    { enrollmentGroupId: 'g1', attestation: { type: 'symmetricKey' }, provisioningStatus: 'enabled' },
  ],
  registrations: [],
  hubDevices: [],
};
const DISABLE: Actions = {
  disenroll: 'disable',
  deregister: 'none',
  deleteRegistrations: false,
  deleteGroup: false,
};
const GROUP: Selection = { kind: 'group', groupId: 'g1' };

/** The fake backend, answering the state it planned from, and recording what each run was given. */
class Backend extends FakeBackend {
  readonly given: { plan: Plan; before?: KnownState }[] = [];
  failPlan?: unknown;
  override async plan(selection: Selection, actions: Actions): Promise<PlanResult> {
    if (this.failPlan) throw this.failPlan;
    const result = await super.plan(selection, actions);
    return result.ok ? { ...result, before: BEFORE } : result;
  }
  override async run(plan: Plan, before?: KnownState): Promise<RunHandle> {
    this.given.push({ plan, before });
    return super.run(plan);
  }
}

describe('DeprovisionSession: plan -> confirm -> run -> verify as one machine', () => {
  it('plans, waits for confirmation, runs with the pre-run state the plan carries, settles', async () => {
    const backend = new Backend();
    const session = new DeprovisionSession(backend);
    session.send({ type: 'PLAN', selection: GROUP, actions: DISABLE });
    const planned = await session.rest();
    expect(planned.state).toBe('planned');
    expect(backend.runs).toHaveLength(0);
    session.send({ type: 'CONFIRM' });
    const running = await session.when('running');
    expect(backend.given[0].before).toBe(BEFORE);
    (backend.runs[0] as FakeRun).advance(10);
    const settled = await session.rest();
    expect(settled.state).toBe('settled');
    expect(settled.context.summary?.state).toBe('completed');
    expect(running.context.handle?.runId).toBe(settled.context.summary?.runId);
    session.send({ type: 'VERIFY', selection: GROUP });
    expect((await session.rest()).state).toBe('verified');
  });

  it('a plan made elsewhere (a copy, as a view holds it) still runs with its pre-run state', async () => {
    const backend = new Backend();
    const result = await backend.plan(GROUP, DISABLE);
    const session = new DeprovisionSession(backend);
    session.send({ type: 'PLANNED', result: structuredClone(result) });
    session.send({ type: 'CONFIRM' });
    await session.when('running');
    expect(backend.given[0].before).toEqual(BEFORE);
  });

  it('ABORT while the run is starting aborts it as soon as it exists', async () => {
    const backend = new Backend();
    const session = new DeprovisionSession(backend);
    session.send({ type: 'PLANNED', result: await backend.plan(GROUP, DISABLE) });
    session.send({ type: 'CONFIRM' });
    expect(session.view.state).toBe('starting');
    session.send({ type: 'ABORT' });
    const settled = await session.when('settled');
    expect(settled.context.summary?.state).toBe('aborted');
    expect((backend.runs[0] as FakeRun).calls).toContain('abort');
  });

  it('a run with failures can run its failed steps again and settle anew', async () => {
    const backend = new Backend();
    const session = new DeprovisionSession(backend);
    session.send({ type: 'PLANNED', result: await backend.plan(GROUP, DISABLE) });
    session.send({ type: 'CONFIRM' });
    await session.when('running');
    const run = backend.runs[0] as FakeRun;
    run.advance(1, 'failed');
    run.advance(10);
    expect((await session.when('settled')).context.summary?.state).toBe('completedWithFailures');
    session.send({ type: 'RETRY_FAILED' });
    expect(session.view.state).toBe('retrying');
    run.advance(10);
    const again = await session.when('settled');
    expect(again.context.summary?.state).toBe('completed');
  });

  it('a refusal rests in refused; a failed read keeps the error as thrown for the edge to explain', async () => {
    const refusing = new Backend({ refuse: () => ({ code: 'invalid-selection', message: 'no' }) });
    const s1 = new DeprovisionSession(refusing);
    s1.send({ type: 'PLAN', selection: GROUP, actions: DISABLE });
    const refused = await s1.rest();
    expect(refused.state).toBe('refused');
    expect(refused.context.refusal?.code).toBe('invalid-selection');
    s1.send({ type: 'CONFIRM' });
    expect(s1.view.state).toBe('refused');

    const failing = new Backend();
    const wrongKey = new UserError('--hub "x": not a connection string');
    failing.failPlan = wrongKey;
    const s2 = new DeprovisionSession(failing);
    s2.send({ type: 'PLAN', selection: GROUP, actions: DISABLE });
    const failed = await s2.rest();
    expect(failed.state).toBe('failed');
    expect(failed.context.failure).toBe(wrongKey);
    expect(failing.runs).toHaveLength(0);
  });

  it('preview: the latest choices win over a planning in progress; choices already held are not planned again', async () => {
    const backend = new Backend();
    let open = () => {};
    const slow = new Promise<void>((r) => {
      open = r;
    });
    const plan = backend.plan.bind(backend);
    backend.plan = async (selection, actions) => {
      const result = await plan(selection, actions);
      if (actions.deregister === 'none') await slow;
      return result;
    };
    const session = new DeprovisionSession(backend);
    const other: Actions = { ...DISABLE, deregister: 'disable' };
    session.preview(GROUP, DISABLE);
    session.preview(GROUP, other);
    const planned = await session.rest();
    expect(planned.state).toBe('planned');
    expect(planned.context.plan?.actions).toEqual(other);
    open();
    await new Promise((r) => setTimeout(r, 0));
    expect(session.view.context.plan?.actions).toEqual(other);
    expect(previewOf(session.view, GROUP, other)).toMatchObject({ status: 'planned' });
    expect(previewOf(session.view, GROUP, DISABLE)).toEqual({ status: 'checking' });
    session.preview(GROUP, { ...other });
    expect(session.view.state).toBe('planned');
    expect(backend.planCalls).toHaveLength(2);
  });

  it('preview plans nothing while a run goes; after it settles it plans anew and the summary stays', async () => {
    const backend = new Backend();
    const session = new DeprovisionSession(backend);
    session.preview(GROUP, DISABLE);
    await session.rest();
    session.send({ type: 'CONFIRM' });
    await session.when('running');
    expect(session.preview(GROUP, DISABLE)).toBe(false);
    expect(session.view.state).toBe('running');
    // The confirmed plan is what the screens still show for these choices while it runs.
    expect(previewOf(session.view, GROUP, DISABLE)).toEqual({
      status: 'planned',
      plan: backend.given[0].plan,
    });
    (backend.runs[0] as FakeRun).advance(10);
    await session.when('settled');
    expect(session.preview(GROUP, DISABLE)).toBe(true);
    const again = await session.rest();
    expect(again.state).toBe('planned');
    expect(again.context.summary?.state).toBe('completed');
    expect(backend.planCalls).toHaveLength(2);
  });

  it('previewOf says a failed planning of these choices in words', async () => {
    const backend = new Backend();
    backend.failPlan = new Error('DPS answered 503');
    const session = new DeprovisionSession(backend);
    session.preview(GROUP, DISABLE);
    await session.rest();
    expect(previewOf(session.view, GROUP, DISABLE)).toEqual({ status: 'error', message: 'DPS answered 503' });
  });

  it('previewRestore: the restore of a recorded run is planned once, shown, and is what CONFIRM runs', async () => {
    const backend = new Backend();
    const asked: string[] = [];
    let failNext: Error | undefined;
    const original = await backend.plan(GROUP, DISABLE);
    if (!original.ok) throw new Error('the fake backend refused a plain disable');
    const restorePlan = (journalPath: string): Plan => ({ ...original.plan, restoreOf: journalPath });
    const ports = Object.assign(backend, {
      planRestore: async (journalPath: string): Promise<PlanResult> => {
        asked.push(journalPath);
        if (failNext) throw failNext;
        return { ok: true, plan: restorePlan(journalPath) };
      },
    });
    const session = new DeprovisionSession(ports);
    expect(session.previewRestore('/j/a.jsonl')).toBe(true);
    expect(previewRestoreOf(session.view, '/j/a.jsonl')).toEqual({ status: 'checking' });
    await session.rest();
    // Asked again (the review redrawn, or reached again): the plan held is kept, not planned anew.
    session.previewRestore('/j/a.jsonl');
    expect(asked).toEqual(['/j/a.jsonl']);
    const shown = previewRestoreOf(session.view, '/j/a.jsonl');
    expect(shown).toMatchObject({ status: 'planned', plan: { restoreOf: '/j/a.jsonl' } });
    // Another run's restore, or choices, are not what the session holds.
    expect(previewRestoreOf(session.view, '/j/b.jsonl')).toEqual({ status: 'checking' });
    expect(previewOf(session.view, GROUP, DISABLE)).toEqual({ status: 'checking' });
    // Another run's restore replaces it; choices then replace that (a restore is never confused with them).
    session.previewRestore('/j/b.jsonl');
    await session.rest();
    expect(session.view.context.plan?.restoreOf).toBe('/j/b.jsonl');
    session.preview(GROUP, DISABLE);
    await session.rest();
    expect(previewRestoreOf(session.view, '/j/b.jsonl')).toEqual({ status: 'checking' });
    expect(session.view.context.restoreOf).toBeUndefined();
    // A failed restore planning is said in words for that run only.
    failNext = new Error('the journal /j/c.jsonl is unreadable');
    session.previewRestore('/j/c.jsonl');
    await session.rest();
    expect(previewRestoreOf(session.view, '/j/c.jsonl')).toEqual({
      status: 'error',
      message: 'the journal /j/c.jsonl is unreadable',
    });
    failNext = undefined;
    session.previewRestore('/j/a.jsonl');
    await session.rest();
    session.send({ type: 'CONFIRM' });
    await session.when('running');
    expect(backend.given.at(-1)?.plan).toBe(session.view.context.plan);
    expect(backend.given.at(-1)?.plan.restoreOf).toBe('/j/a.jsonl');
    // While the restore runs, nothing else is planned.
    expect(session.previewRestore('/j/b.jsonl')).toBe(false);
    expect(asked).toEqual(['/j/a.jsonl', '/j/b.jsonl', '/j/c.jsonl', '/j/a.jsonl']);
  });
});
