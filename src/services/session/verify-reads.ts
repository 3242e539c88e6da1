/**
 * Verify: the one fresh read a verify makes (a hub through one export job where the path choice takes
 * it, export-read.ts), the verdicts drawn from it against what the devices were before the run, the
 * verify steps of a run and of a restore run, and the verify command itself.
 */
import {
  chainsOf,
  evidenceFor,
  hubStepsOf,
  priorDeviceIds,
  priorFromPlan,
  sameTarget,
  selectedIds,
  selectionGroupId,
} from '../../core/evidence.js';
import { hubIdentityChecks } from '../../core/hub-lookup.js';
import type { HubReadReport } from '../../core/hub-read-path.js';
import { hubReadLines } from '../../core/hub-read-path.js';
import type { HubDevice, KnownState, ReenrollmentVerdict } from '../../core/model.js';
import type { Plan } from '../../core/plan-types.js';
import { createReenrollmentAnalyzer } from '../../core/reenrollment.js';
import type { Selection } from '../../core/selection.js';
import { mapLimited } from '../concurrency.js';
import type { VerifyFn } from '../executor/index.js';
import { readJournal } from '../journal/reader.js';
import { listRuns, sameHost } from '../journal/runs.js';
import { createExportReads, type ExportReads } from './export-read.js';
import { lookupHubIdentities } from './read-state.js';
import type { SessionContext } from './session-context.js';

/** What the session's verifies share: its context, and a fresh set of hub reads for each verify. */
interface VerifyContext extends SessionContext {
  verifyReads: () => ExportReads;
}

/** The verifies of one session; `hubReads` says how the last one read each hub. */
export interface Verifier {
  /** A run's verify steps on `selection`, against what the devices were (`prior`) and the plan's hub steps. */
  verifyFor(selection: Selection, prior?: KnownState, plan?: Plan): VerifyFn;
  /** A restore run's verify steps (see verifyRestore). */
  verifyRestore(plan: Plan, prior?: KnownState): VerifyFn;
  /** The verify command on a selection (devices named by ID already resolved). */
  verify(selection: Selection): Promise<ReenrollmentVerdict[]>;
  /** How the last verify read each hub (queries, or one export job): one line per hub in its output. */
  hubReads(): HubReadReport[];
}

export function createVerifier(ctx: SessionContext): Verifier {
  const { options } = ctx;
  /** Verify's hub reads: through one export job per hub where the path choice takes it (export-read.ts). */
  let lastHubReads: ExportReads | undefined;
  const verifyReads = (): ExportReads => {
    lastHubReads = createExportReads({
      hubs: options.hubs,
      choice: options.hubPath ?? 'auto',
      ...(options.jobStorage ? { storage: options.jobStorage } : {}),
      queriesPerMinute: ctx.queriesPerMinute,
      limiter: ctx.readLimiter,
      ...(options.limits?.timeScale ? { timeScale: options.limits.timeScale } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return lastHubReads;
  };
  const verifying: VerifyContext = { ...ctx, verifyReads };
  return {
    verifyFor: (selection, prior, plan) => verifyFor(verifying, selection, prior, plan),
    verifyRestore: (plan, prior) => verifyRestore(verifying, plan, prior),
    verify: (selection) => verifySelection(verifying, selection),
    hubReads: () => lastHubReads?.reports() ?? [],
  };
}

/** Said once a run's verify phase has read a hub through an export job, or failed to (headless: stderr). */
const tellHubReads = (ctx: SessionContext, reads: ExportReads) => {
  const reports = reads.reports();
  if (reports.every((r) => r.path === 'queries')) return;
  for (const line of hubReadLines(reports)) ctx.options.onNotice?.(line);
};

const verifyAgainst = (
  ctx: SessionContext,
  selection: Selection,
  state: KnownState,
  ids: string[],
  prior?: KnownState,
  expected?: Map<string, { hub: string; deviceId: string }[]>,
): ReenrollmentVerdict[] => {
  const analyze = createReenrollmentAnalyzer(state);
  const groupId = selectionGroupId(selection);
  const hubChecks = hubIdentityChecks(ids, state, { prior, expected });
  return evidenceFor(ids, state, chainsOf(selection, ctx.held), prior, groupId).map((e) => {
    const { uncertain: _u, ...verdict } = analyze(e);
    return { ...verdict, hubs: hubChecks.get(e.registrationId) ?? [] };
  });
};

/**
 * When the selected enrollment or group is gone, the newest recorded run on it says what it was (how its
 * devices attested), so that verify can still answer precisely.
 */
const journaledPrior = async (
  ctx: SessionContext,
  selection: Selection,
  state: KnownState,
): Promise<KnownState | undefined> => {
  const present =
    selection.kind === 'enrollment'
      ? state.individualEnrollments.some((e) => e.registrationId === selection.registrationId)
      : selection.kind === 'devices'
        ? true
        : state.enrollmentGroups.some((g) => g.enrollmentGroupId === selection.groupId) &&
          state.registrations.length > 0;
  if (present) return undefined;
  for (const run of await listRuns(ctx.options.env)) {
    if (run.error || run.restoreOf || !sameTarget(run.selection, selection)) continue;
    const contents = await readJournal(run.path).catch(() => undefined);
    if (contents?.plan?.prior) return priorFromPlan(contents.plan);
  }
  return undefined;
};

const verifyFor = (ctx: VerifyContext, selection: Selection, prior?: KnownState, plan?: Plan) => {
  // One fresh read for all verify steps of a run (they come in chunks of up to 1,000 devices).
  let state: Promise<KnownState> | undefined;
  const expected = hubStepsOf(plan);
  return async (ids: string[]) => {
    if (!state) {
      const reads = ctx.verifyReads();
      state = ctx.read(selection, true, priorDeviceIds(prior, expected), reads);
      state.then(() => tellHubReads(ctx, reads)).catch(() => {});
    }
    return verifyAgainst(ctx, selection, await state, ids, prior, expected);
  };
};

/**
 * A restore run's verify: the targets are back as they were before the run it restores. A device DPS
 * still refuses (a blocker left, a group still disabled) or whose re-enabled hub identity is not
 * enabled is marked `notBack`, which fails the verify step.
 */
const verifyRestore = (ctx: VerifyContext, plan: Plan, prior?: KnownState) => {
  const { hubs } = ctx;
  let state: Promise<KnownState> | undefined;
  const hubOf = new Map<string, { hub: string; deviceId: string }>();
  const dpsLess = new Set(plan.selection.kind === 'devices' ? (plan.selection.parts?.unenrolled ?? []) : []);
  for (const step of plan.steps) {
    const op = step.op;
    const enables = op.kind === 'enableHubDevices' || (op.kind === 'hubJobDevices' && op.action === 'enable');
    if (!enables) continue;
    for (const [i, deviceId] of op.deviceIds.entries()) {
      hubOf.set(step.registrationIds[i] ?? deviceId, { hub: op.hub, deviceId });
    }
  }
  return async (ids: string[]) => {
    if (!state) {
      const reads = ctx.verifyReads();
      state = ctx.read(plan.selection, true, [], reads);
      state.then(() => tellHubReads(ctx, reads)).catch(() => {});
    }
    const now = await state;
    return mapLimited(verifyAgainst(ctx, plan.selection, now, ids, prior), 8, async (v) => {
      const problems: string[] = [];
      // A device DPS never had (found on a hub only) was refused by DPS before the run too.
      if (v.verdict === 'blocked' && !dpsLess.has(v.registrationId))
        problems.push(`DPS still refuses it (${v.reason})`);
      const h = hubOf.get(v.registrationId);
      if (h) {
        let device: HubDevice | undefined = now.hubDevices.find(
          (d) => sameHost(d.hub, h.hub) && d.deviceId === h.deviceId,
        );
        device ??= await hubs.get(h.hub.toLowerCase())?.getDevice(h.deviceId);
        if (device?.status !== 'enabled')
          problems.push(`its identity on ${h.hub} is ${device ? device.status : 'gone'}`);
      }
      return problems.length > 0 ? { ...v, notBack: problems.join('; ') } : v;
    });
  };
};

/** The verify command: one fresh read of the selection, against the newest recorded run's snapshot. */
const verifySelection = async (ctx: VerifyContext, selection: Selection): Promise<ReenrollmentVerdict[]> => {
  const reads = ctx.verifyReads();
  let state = await ctx.read(selection, true, [], reads);
  const prior = await journaledPrior(ctx, selection, state);
  // A group whose records were deleted: its devices are the ones the run's snapshot recorded.
  const ids = selectedIds(selection, state.registrations.length === 0 && prior ? prior : state);
  const extra = priorDeviceIds(prior, new Map());
  if (extra.length > 0) {
    // Their records are gone: look their device IDs up too, so their identities are still reported.
    const more = await lookupHubIdentities(ctx.hubs, extra, { ...ctx.lookupOptions(), exportReads: reads });
    if (more.refused) throw more.refused;
    state = { ...state, hubDevices: [...state.hubDevices, ...more.devices] };
  }
  return verifyAgainst(ctx, selection, state, ids, prior);
};
