/**
 * Planning a restore of a recorded run: the refusals (nothing journaled, already restored, itself a
 * restore), and what the restore compares with what the run left (its targets now, later runs on them).
 */
import { commandLine } from '../../core/invocation.js';
import type { EnrollmentGroup, HubDevice, IndividualEnrollment } from '../../core/model.js';
import type { Plan, PlanResult } from '../../core/plan-types.js';
import {
  hubDeviceKey,
  planRestore,
  type RestoreContext,
  restoreReads,
  targetsActedOn,
} from '../../core/restore.js';
import { formatTimestamp } from '../../core/text.js';
import { mapLimited } from '../concurrency.js';
import { readJournal } from '../journal/reader.js';
import { listRuns, sameHost, targetOf } from '../journal/runs.js';
import { hubPathOptions } from './hub-paths.js';
import { readHubDevices } from './read-state.js';
import type { SessionContext } from './session-context.js';

/** The plan that undoes the temporary actions of the run journaled at `journalPath`, or why there is none. */
export async function planRestoreOf(ctx: SessionContext, journalPath: string): Promise<PlanResult> {
  const { options } = ctx;
  const contents = await readJournal(journalPath);
  if (!contents.plan) {
    return {
      ok: false,
      refusal: {
        code: 'unknown-target',
        message: `run ${contents.header.runId} stopped before its plan was journaled: nothing to restore`,
      },
    };
  }
  const runId = contents.header.runId;
  // Restore undoes one run once: a second restore would undo what happened since the first.
  const restores = (await listRuns(options.env)).filter((r) => r.restoreOf === runId).reverse();
  if (restores.length > 0) {
    const by = restores[0];
    const finished = by.state === 'completed' || by.state === 'completedWithFailures';
    return {
      ok: false,
      refusal: {
        code: 'already-restored',
        message:
          `run ${runId} was already restored by run ${by.runId} (${formatTimestamp(by.createdAt)} UTC, ${by.state}); nothing changed. ` +
          (finished
            ? 'A restore undoes a run once; what changed since is left as it is.'
            : `To finish that restore: ${commandLine('resume', by.runId)}`),
      },
    };
  }
  if (contents.header.restoreOf) {
    return {
      ok: false,
      refusal: {
        code: 'invalid-selection',
        message: `run ${runId} is itself the restore of run ${contents.header.restoreOf}: there is nothing of it to undo`,
      },
    };
  }
  const context = await restoreContext(ctx, contents, contents.plan);
  return planRestore(runId, contents.plan, [...contents.results.values()], {
    ...context,
    hubPath: hubPathOptions(options, options.hubPath ?? 'auto'),
  });
}

/** What a restore compares with what the run left: its targets now, and later runs that acted on them. */
const restoreContext = async (
  ctx: SessionContext,
  contents: Awaited<ReturnType<typeof readJournal>>,
  plan: Plan,
): Promise<RestoreContext> => {
  const { options, dps, hubs } = ctx;
  const runId = contents.header.runId;
  const results = [...contents.results.values()];
  const reads = restoreReads(plan, results);
  const laterRuns = new Map<string, string[]>();
  const mine = targetOf(contents.header);
  // Oldest first, so a target names the runs in the order they acted.
  for (const run of (await listRuns(options.env)).reverse()) {
    if (run.error || run.runId === runId) continue;
    if (
      run.createdAt < contents.header.createdAt ||
      (run.createdAt === contents.header.createdAt && run.runId < runId)
    )
      continue;
    // A run of another DPS did not act on these targets; one of an unknown target may have.
    if (mine && run.target && !sameHost(run.target.dpsHost, mine.dpsHost)) continue;
    const later = await readJournal(run.path).catch(() => undefined);
    if (!later?.plan) continue;
    for (const key of targetsActedOn(later.plan, later.results, later.unknownSteps)) {
      laterRuns.set(key, [...(laterRuns.get(key) ?? []), run.runId]);
    }
  }
  const enrollments = new Map<string, IndividualEnrollment | null>();
  for (const [id, e] of await mapLimited(
    reads.enrollments,
    8,
    async (id) => [id, await dps.getEnrollment(id)] as const,
  )) {
    enrollments.set(id, e ?? null);
  }
  const groups = new Map<string, EnrollmentGroup | null>();
  for (const id of reads.groups) groups.set(id, (await dps.getGroup(id)) ?? null);
  const hubDevices = new Map<string, HubDevice | null>();
  const { devices, errors } = await readHubDevices(
    hubs,
    reads.hubDevices.map((d) => ({
      registrationId: d.deviceId,
      deviceId: d.deviceId,
      assignedHub: d.hub,
      status: 'assigned',
    })),
  );
  for (const d of reads.hubDevices) {
    // A hub that could not be read is not compared (its enable step reports what it finds).
    if (!hubs.get(d.hub.toLowerCase()) || errors.has(d.hub.toLowerCase())) continue;
    hubDevices.set(hubDeviceKey(d.hub, d.deviceId), null);
  }
  for (const d of devices) hubDevices.set(hubDeviceKey(d.hub, d.deviceId), d);
  return { enrollments, groups, hubDevices, laterRuns, outcomeAt: contents.resultAt };
};
