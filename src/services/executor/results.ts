/** Turning what happened into results: failures as values, partial bulk failures, the run summary. */
import type { ReenrollmentVerdict } from '../../core/model.js';
import type { Plan, PlanStep, StepResult } from '../../core/plan-types.js';
import { describeStep } from '../../core/run-progress.js';
import type { RunSummary } from '../backend.js';
import { scrubSecrets } from '../journal/redact.js';
import type { DeviceResult, Execution } from './operations.js';

/** A step that threw: its message (secrets scrubbed); for a bulk step, every device not done before. */
export const failureOf = (
  step: PlanStep,
  e: unknown,
  prior: ReadonlyMap<string, DeviceResult> | undefined,
): Execution => {
  const text = scrubSecrets(e instanceof Error ? e.message : String(e));
  const message = `${describeStep(step)}: ${text}`;
  const op = step.op;
  if (!('deviceIds' in op)) return { outcome: 'failed', message };
  const devices = op.deviceIds.map(
    (id): DeviceResult => prior?.get(id) ?? { id, outcome: 'failed', message: text },
  );
  return { outcome: 'failed', message, devices };
};

/**
 * Registration IDs behind the failed devices of a bulk step: by position when the planner lined
 * them up with the device IDs, else through the snapshot. Undefined = cannot tell, treat all as failed.
 */
export const failedRegistrationIds = (
  plan: Plan,
  step: PlanStep,
  devices: readonly DeviceResult[],
): Set<string> | undefined => {
  const op = step.op;
  if (!('deviceIds' in op)) return undefined;
  const failedIds = new Set(devices.filter((x) => x.outcome === 'failed').map((x) => x.id));
  const out = new Set<string>();
  if (op.deviceIds.length === step.registrationIds.length) {
    op.deviceIds.forEach((id, k) => {
      if (failedIds.has(id)) out.add(step.registrationIds[k]);
    });
    return out;
  }
  const regs = new Set(step.registrationIds);
  for (const r of plan.snapshot) {
    if (regs.has(r.registrationId) && failedIds.has(r.deviceId ?? r.registrationId))
      out.add(r.registrationId);
  }
  return out.size === failedIds.size ? out : undefined;
};

const TEMPORARY = new Set(['disableEnrollment', 'disableGroup', 'disableHubDevices']);

export const summarize = (r: {
  plan: Plan;
  runId: string;
  journalPath: string;
  state: string;
  results: readonly (StepResult | undefined)[];
  verdicts: ReadonlyMap<string, ReenrollmentVerdict[]>;
  journalError: string | undefined;
}): RunSummary => {
  const temporary = r.plan.steps.some(
    (s, i) => TEMPORARY.has(s.op.kind) && r.results[i]?.outcome === 'succeeded',
  );
  const state: RunSummary['state'] =
    r.state === 'completed' || r.state === 'completedWithFailures' ? r.state : 'aborted';
  return {
    runId: r.runId,
    journalPath: r.journalPath,
    state,
    results: r.results.filter((x): x is StepResult => x !== undefined),
    verify: [...r.verdicts.values()].flat(),
    ...(temporary && !r.plan.restoreOf ? { restoreCommand: `iot-deprovision restore ${r.runId} --yes` } : {}),
    ...(r.journalError ? { journalError: r.journalError } : {}),
  };
};
