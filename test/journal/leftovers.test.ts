/**
 * Issue 14 §7: the groups runs deleted while their registration records stayed (orphaned records), read
 * back from the journals: what the TUI offers under `o` and what `runs` names.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan, StepResult } from '../../src/core/plan-types.js';
import { groupsDeletedWithRecordsLeft, groupsLeftBy, openJournal } from '../../src/services/journal/index.js';
import { wholeGroupPlan } from '../executor/plans.js';

const DEVICES = [
  { reg: 'a', hub: 'hub-1.azure-devices.net' },
  { reg: 'b', hub: 'hub-1.azure-devices.net' },
];

/** Outcomes by step kind: deleteGroup and each deleteRegistration (by registration ID). */
function results(plan: Plan, outcomes: Record<string, StepResult['outcome']>): Map<string, StepResult> {
  const out = new Map<string, StepResult>();
  for (const step of plan.steps) {
    const key = step.op.kind === 'deleteRegistration' ? `record:${step.op.registrationId}` : step.op.kind;
    const outcome = outcomes[key];
    if (outcome) out.set(step.id, { stepId: step.id, outcome, attempts: 1 });
  }
  return out;
}

describe('groups a run deleted with registration records left', () => {
  const plan = wholeGroupPlan(DEVICES, { deleteGroup: true });

  it('the group deleted, one of its two records deleted: one record left', () => {
    const r = results(plan, { deleteGroup: 'succeeded', 'record:a': 'succeeded', 'record:b': 'failed' });
    expect(groupsLeftBy(plan, r)).toEqual([{ groupId: 'g1', records: 1 }]);
  });

  it('every record deleted, or the group not deleted: nothing left to offer', () => {
    expect(
      groupsLeftBy(
        plan,
        results(plan, { deleteGroup: 'succeeded', 'record:a': 'succeeded', 'record:b': 'alreadyDone' }),
      ),
    ).toEqual([]);
    expect(groupsLeftBy(plan, results(plan, { deleteGroup: 'failed' }))).toEqual([]);
  });

  let root = '';
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('from the journals: only runs of the DPS asked for, newest first', async () => {
    root = await mkdtemp(join(tmpdir(), 'leftovers-'));
    const env = { XDG_STATE_HOME: root };
    const journal = async (dpsHost: string) => {
      const j = await openJournal(
        { target: { dpsHost, hubHosts: ['hub-1.azure-devices.net'] }, plan },
        { env },
      );
      for (const [_, result] of results(plan, { deleteGroup: 'succeeded' }))
        await j.appendOutcome(result, true);
      await j.appendEnd('completed');
      await j.close();
      return j.runId;
    };
    const mine = await journal('dps-a.azure-devices-provisioning.net');
    await journal('dps-b.azure-devices-provisioning.net');
    const left = await groupsDeletedWithRecordsLeft(env, 'DPS-A.azure-devices-provisioning.net');
    expect(left).toEqual([
      expect.objectContaining({
        groupId: 'g1',
        runId: mine,
        records: 2,
        dpsHost: 'dps-a.azure-devices-provisioning.net',
      }),
    ]);
    expect(await groupsDeletedWithRecordsLeft(env)).toHaveLength(1); // one entry per group, the newest run
  });
});
