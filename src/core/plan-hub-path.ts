/**
 * The path each hub's step takes: the planner writes call-path batches (at most HUB_BULK_MAX devices a
 * call); this pass decides per hub (chooseHubPath) and, for a hub whose path is jobs, puts ONE
 * hubJobDevices step in place of its batches. Every hub with a step gets a line in `plan.hubPaths`: the
 * path, why, and the estimated time of each path. Pure.
 */
import {
  type HubAction,
  type HubPathChoice,
  type HubTierName,
  chooseHubPath,
  DEFAULT_JOB_MODEL,
  type JobModel,
} from './hub-path.js';
import { PHASES, type HubPathInfo, type Phase, type Plan, type PlanStep } from './plan-types.js';
import { plural, shortHost } from './text.js';

export interface HubPathOptions {
  /** --hub-path, for every hub, or per hub (a restore follows the path its run took). */
  choice: HubPathChoice | ((hub: string) => HubPathChoice);
  /** Job storage is configured (--job-storage): `auto` may take jobs. */
  storageConfigured: boolean;
  /** Why there is no job storage, when that is not simply "none configured" (the hub path's reason). */
  noStorageReason?: string;
  /** The job storage's container URL without its SAS (shown with the plan when a hub takes jobs). */
  storageDisplay?: string;
  /** How many containers the job storage has: one job step at a time in each (default 1). */
  storageContainers?: number;
  /** The hub's tier (standard tier with the same throttles) and units. */
  capacity: (hub: string) => { tier: HubTierName; units: number };
  model?: JobModel;
}

const actionOf = (step: PlanStep): HubAction | undefined => {
  const op = step.op;
  // An IoT Edge gateway's children keep the call path: a handful of devices, their own step.
  if ('edgeChildrenOf' in op && op.edgeChildrenOf) return undefined;
  switch (op.kind) {
    case 'disableHubDevices':
      return 'disable';
    case 'enableHubDevices':
      return 'enable';
    case 'deleteHubDevices':
      return 'delete';
    case 'hubJobDevices':
      return op.action;
    default:
      return undefined;
  }
};

/** The words of a job step's call (the plan shows it as it shows every other call). */
export function jobStepCall(hub: string, action: HubAction, devices: number): string {
  const n = plural(devices, 'device');
  if (action === 'delete') return `import job (importMode=delete, ${n}) on ${hub}`;
  const status = action === 'disable' ? 'disabled' : 'enabled';
  return `export job, then import job (updateIfMatchETag, status=${status}, ${n}) on ${hub}`;
}

/** Decides each hub's path; rewrites the hub steps of hubs that take jobs. Returns the plan changed in place. */
export function applyHubPaths(plan: Plan, options: HubPathOptions): Plan {
  const byHub = new Map<string, { hub: string; action: HubAction; steps: PlanStep[] }>();
  for (const step of plan.steps) {
    const action = actionOf(step);
    if (!action) continue;
    const hub = (step.op as { hub: string }).hub;
    const key = hub.toLowerCase();
    const entry = byHub.get(key) ?? { hub, action, steps: [] };
    entry.steps.push(step);
    byHub.set(key, entry);
  }
  if (byHub.size === 0) return plan;
  const replaced = new Map<PlanStep, PlanStep | null>();
  const infos: HubPathInfo[] = [];
  for (const { hub, action, steps } of byHub.values()) {
    const deviceIds = steps.flatMap((s) => (s.op as { deviceIds: string[] }).deviceIds);
    const { tier, units } = options.capacity(hub);
    const choice = typeof options.choice === 'function' ? options.choice(hub) : options.choice;
    const decision = chooseHubPath({
      choice,
      devices: deviceIds.length,
      action,
      tier,
      units,
      storageConfigured: options.storageConfigured,
      ...(options.noStorageReason ? { noStorageReason: options.noStorageReason } : {}),
      model: options.model ?? DEFAULT_JOB_MODEL,
    });
    infos.push({ hub, devices: deviceIds.length, action, ...decision });
    const alreadyJob = steps.every((s) => s.op.kind === 'hubJobDevices');
    if (decision.path === 'calls' || alreadyJob) continue;
    const first = steps[0];
    replaced.set(first, {
      id: first.id,
      phase: first.phase,
      op: { kind: 'hubJobDevices', hub, action, deviceIds },
      call: jobStepCall(hub, action, deviceIds.length),
      destructive: true,
      registrationIds: steps.flatMap((s) => s.registrationIds),
    });
    for (const s of steps.slice(1)) replaced.set(s, null);
  }
  plan.hubPaths = infos;
  if (options.storageDisplay && infos.some((h) => h.path === 'jobs')) {
    plan.jobStorage = options.storageDisplay;
    if ((options.storageContainers ?? 1) > 1) plan.jobStorageContainers = options.storageContainers;
  }
  if (replaced.size === 0) return plan;
  const steps: PlanStep[] = [];
  for (const s of plan.steps) {
    const r = replaced.get(s);
    if (r === null) continue;
    steps.push(r ?? s);
  }
  // Steps are numbered per phase: number them again.
  const numbers = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  plan.steps = steps.map((s) => {
    numbers[s.phase] += 1;
    return { ...s, id: `${s.phase}:${numbers[s.phase]}` };
  });
  plan.counts.steps = numbers;
  return plan;
}

/**
 * How the hubs' jobs share the job storage, when more than one hub takes jobs: at once (a container
 * each), or in turns (fewer containers than hubs; a job step holds a container while its jobs run).
 */
export function jobLanesWords(plan: Plan): string {
  const hubs = (plan.hubPaths ?? []).filter((h) => h.path === 'jobs').length;
  if (hubs < 2) return '';
  const containers = plan.jobStorageContainers ?? 1;
  if (containers >= hubs) return ` (${containers} containers: the ${hubs} hubs' jobs run at once)`;
  const held = containers === 1 ? 'one container' : `${containers} containers`;
  return ` (${held}: the ${hubs} hubs' jobs take turns, ${containers} at a time; one container per hub, --job-storage repeated, runs them at once)`;
}

/** "1.2 s", "3 min", "2.5 h": an estimate in words. */
export function durationWords(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** What the per-hub lines tell (the plan's heading over them, headless and on the review screen). */
export const HUB_PATH_HEADING = "hub path (calls: device by device; jobs: the hub's import/export jobs)";

/**
 * One line per hub: "hub-eu: jobs (calls would take longer than jobs on S1 x1); calls ~3.3 h, jobs ~3 min" (the
 * review screen: `shortHosts`, the hub's name without its domain).
 */
export function hubPathLines(plan: Plan, options: { shortHosts?: boolean } = {}): string[] {
  const storage = plan.jobStorage ? [`job storage: ${plan.jobStorage}${jobLanesWords(plan)}`] : [];
  return [
    ...storage,
    ...(plan.hubPaths ?? []).map(
      (h) =>
        `${options.shortHosts ? shortHost(h.hub) : h.hub}: ${h.path} (${h.reason}); ${plural(h.devices, 'device')} to ${h.action}, ` +
        `estimated calls ~${durationWords(h.callsSeconds)}, jobs ~${durationWords(h.jobsSeconds)}`,
    ),
  ];
}
