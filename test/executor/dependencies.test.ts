import { describe, expect, it } from 'vitest';
import {
  buildDependencies,
  dependentsOf,
  prerequisitesOf,
} from '../../src/services/executor/dependencies.js';
import { groupDevicesPlan, wholeGroupPlan } from './plans.js';

const ids = (plan: { steps: { id: string }[] }, list: Int32Array) =>
  [...list].map((i) => plan.steps[i].id).sort();

describe('dependency index', () => {
  it('per device: blocker before its hub step, hub step before its registration record delete', () => {
    const plan = groupDevicesPlan([
      { reg: 'a', hub: 'h1' },
      { reg: 'b', hub: 'h2' },
    ]);
    const d = buildDependencies(plan.steps);
    const at = (id: string) => plan.steps.findIndex((s) => s.id === id);
    // deregister:0 is a's hub batch on h1: it waits for the snapshot fence and a's blocker only.
    expect(ids(plan, prerequisitesOf(d, at('deregister:0')))).toEqual(['disenroll:0', 'snapshot:0']);
    expect(ids(plan, prerequisitesOf(d, at('deregister:1')))).toEqual(['disenroll:1', 'snapshot:0']);
    // a's record delete waits for a's blocker and a's hub step, not for b's.
    expect(ids(plan, prerequisitesOf(d, at('cleanup:0')))).toEqual([
      'deregister:0',
      'disenroll:0',
      'snapshot:0',
    ]);
    // Every blocker waits only for the snapshot fence.
    expect(ids(plan, prerequisitesOf(d, at('disenroll:1')))).toEqual(['snapshot:0']);
    expect(ids(plan, dependentsOf(d, at('disenroll:0')))).toEqual(['cleanup:0', 'deregister:0', 'verify:0']);
  });

  it('a step for the whole selection is a fence: it waits for all before it, all after wait for it', () => {
    const plan = wholeGroupPlan(
      [
        { reg: 'a', hub: 'h1' },
        { reg: 'b', hub: 'h1' },
      ],
      { deleteGroup: true },
    );
    const d = buildDependencies(plan.steps);
    const at = (id: string) => plan.steps.findIndex((s) => s.id === id);
    expect(plan.steps[at('cleanup:2')].op.kind).toBe('deleteGroup');
    expect(ids(plan, prerequisitesOf(d, at('disenroll:0')))).toEqual(['snapshot:0']);
    expect(ids(plan, prerequisitesOf(d, at('deregister:0')))).toEqual(['disenroll:0']);
    // The group is deleted only after its registration records.
    expect(ids(plan, prerequisitesOf(d, at('cleanup:2')))).toEqual([
      'cleanup:0',
      'cleanup:1',
      'deregister:0',
      'disenroll:0',
    ]);
  });

  it('is built in linear size (30,000 devices)', () => {
    const devices = Array.from({ length: 30_000 }, (_, k) => ({ reg: `d${k}`, hub: `h${k % 3}` }));
    const plan = groupDevicesPlan(devices);
    const d = buildDependencies(plan.steps);
    // blockers: 1 each; hub batches: 100 blockers + fence; deletes: 3 each; verify: 3 per device + fence.
    expect(d.prereqs.length).toBeLessThan(plan.steps.length * 4);
    expect(d.order.length).toBe(plan.steps.length);
  });
});
