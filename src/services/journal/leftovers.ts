/**
 * What runs left behind that still costs something: the enrollment groups a run deleted while their
 * registration records stayed (orphaned records still count against the DPS registration quota). The
 * TUI offers these group IDs for cleanup (`o` on the groups tab) and `runs` names them.
 */
import type { Plan, StepResult } from '../../core/plan-types.js';
import type { Env } from './paths.js';
import { readJournal } from './reader.js';
import { listRuns, sameHost, targetOf } from './runs.js';

export interface GroupLeftWithRecords {
  groupId: string;
  /** The run that deleted the group (the newest such run when several did). */
  runId: string;
  /** When the group's deletion was journaled (ISO), or the run's start when unknown. */
  deletedAt: string;
  /** Registration records the run's snapshot held for the group that the run did not delete. */
  records: number;
  /** The DPS the run worked on. */
  dpsHost?: string;
  /** The run was made on the sandbox (its state file, when recorded). */
  sandbox?: boolean;
  sandboxState?: string;
}

const tookEffect = (r: StepResult | undefined): boolean =>
  r !== undefined && (r.outcome === 'succeeded' || r.outcome === 'alreadyDone');

/**
 * The groups one run deleted with registration records left: its deleteGroup step took effect, and some
 * record of the group in its snapshot was not deleted by one of its deleteRegistration steps.
 */
export function groupsLeftBy(
  plan: Plan,
  results: ReadonlyMap<string, StepResult>,
  resultAt: ReadonlyMap<string, string> = new Map(),
): { groupId: string; records: number; deletedAt?: string }[] {
  const deletedRecords = new Set<string>();
  for (const step of plan.steps) {
    if (step.op.kind === 'deleteRegistration' && tookEffect(results.get(step.id)))
      deletedRecords.add(step.op.registrationId);
  }
  const out: { groupId: string; records: number; deletedAt?: string }[] = [];
  for (const step of plan.steps) {
    if (step.op.kind !== 'deleteGroup' || !tookEffect(results.get(step.id))) continue;
    const groupId = step.op.groupId;
    const left = plan.snapshot.filter(
      (r) =>
        (r.enrollmentGroupId === undefined || r.enrollmentGroupId === groupId) &&
        !deletedRecords.has(r.registrationId),
    ).length;
    const deletedAt = resultAt.get(step.id);
    if (left > 0) out.push({ groupId, records: left, ...(deletedAt ? { deletedAt } : {}) });
  }
  return out;
}

/**
 * Every group a journaled run deleted while its registration records were left, newest deletion first,
 * one entry per group. `dpsHost` keeps the runs of that DPS (runs that recorded no target are kept: they
 * may be of it). A group whose orphaned records a later run deleted (ran to completion) is left out.
 */
export async function groupsDeletedWithRecordsLeft(
  env: Env = process.env,
  dpsHost?: string,
): Promise<GroupLeftWithRecords[]> {
  const runs = await listRuns(env);
  const found = new Map<string, GroupLeftWithRecords>();
  /** Group ID -> the newest run that cleaned up its orphaned records completely. */
  const cleaned = new Map<string, string>();
  for (const run of runs) {
    if (run.error || run.restoreOf) continue;
    if (dpsHost && run.target && !sameHost(run.target.dpsHost, dpsHost)) continue;
    if (run.selection.kind !== 'group') continue;
    const groupId = run.selection.groupId;
    if (run.actions?.orphanedRecords) {
      if (run.state === 'completed' && !cleaned.has(groupId)) cleaned.set(groupId, run.createdAt);
      continue;
    }
    if (!run.actions?.deleteGroup) continue;
    const contents = await readJournal(run.path).catch(() => undefined);
    if (!contents?.plan) continue;
    const target = targetOf(contents.header);
    for (const left of groupsLeftBy(contents.plan, contents.results, contents.resultAt)) {
      const entry: GroupLeftWithRecords = {
        groupId: left.groupId,
        runId: run.runId,
        deletedAt: left.deletedAt ?? run.createdAt,
        records: left.records,
        ...(target ? { dpsHost: target.dpsHost } : {}),
        ...(target?.sandbox ? { sandbox: true } : {}),
        ...(target?.sandboxState ? { sandboxState: target.sandboxState } : {}),
      };
      const prior = found.get(entry.groupId);
      if (!prior || prior.deletedAt < entry.deletedAt) found.set(entry.groupId, entry);
    }
  }
  return [...found.values()]
    .filter((g) => {
      const at = cleaned.get(g.groupId);
      return at === undefined || at < g.deletedAt;
    })
    .sort((a, b) => (a.deletedAt < b.deletedAt ? 1 : a.deletedAt > b.deletedAt ? -1 : 0));
}
