/**
 * Turning what happened into results: a step's result and the machine's event for it, failures as
 * values, partial bulk failures, the run summary.
 */
import { commandLine } from '../../core/invocation.js';
import type { ReenrollmentVerdict } from '../../core/model.js';
import type { Plan, PlanStep, StepResult } from '../../core/plan-types.js';
import type { RunEvent } from '../../core/run-events.js';
import { asCallStep } from '../../core/restore-changes.js';
import { describeStep } from '../../core/run-progress.js';
import type { RunSummary } from '../backend.js';
import { scrubSecrets } from '../journal/redact.js';
import type { DeviceResult, Execution } from './step-types.js';

/** A settled step's result, as journaled and summarized. */
export const stepResultOf = (step: PlanStep, x: Execution, attempts: number): StepResult => ({
  stepId: step.id,
  outcome: x.outcome,
  ...(x.devices ? { devices: x.devices } : {}),
  ...(x.message ? { message: x.message } : {}),
  attempts,
  ...(x.etag ? { etag: x.etag } : {}),
});

/** The run machine's event for a settled step. */
export const settledEventOf = (step: PlanStep, x: Execution): RunEvent => {
  if (x.outcome === 'failed') {
    return { type: 'STEP_FAILED', stepId: step.id, message: x.message ?? 'failed', devices: x.devices };
  }
  if (x.outcome === 'skipped')
    return { type: 'STEP_SKIPPED', stepId: step.id, reason: x.message ?? 'skipped' };
  return {
    type: 'STEP_SUCCEEDED',
    stepId: step.id,
    alreadyDone: x.outcome === 'alreadyDone',
    devices: x.devices,
    message: x.message,
  };
};

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

// What restore undoes: re-enables what was disabled, deletes the blockers written.
const TEMPORARY = new Set(['disableEnrollment', 'disableGroup', 'disableHubDevices', 'createBlocker']);

/** What `restore` of this run will undo, in words: exactly what planRestore does. */
export const restoreWords = (plan: Plan, results: readonly (StepResult | undefined)[]): string => {
  // A hub step through import/export jobs counts as its call-path twin (as restore reads it).
  const kindOf = (op: Plan['steps'][number]['op']): string => asCallStep(op).kind;
  const done = (kinds: string[]) =>
    plan.steps.filter((s, i) => kinds.includes(kindOf(s.op)) && results[i]?.outcome === 'succeeded');
  const parts: string[] = [];
  if (done(['disableEnrollment', 'disableGroup', 'disableHubDevices']).length > 0) {
    parts.push('re-enables what this run disabled (not what was disabled before it)');
  }
  const blockers = done(['createBlocker']).flatMap((s) => (s.op.kind === 'createBlocker' ? [s.op] : []));
  if (blockers.length > 0) {
    const groups = [...new Set(blockers.map((b) => b.groupId))].join(', ');
    parts.push(
      `deletes the ${blockers.length === 1 ? 'blocker' : `${blockers.length} blockers`} it wrote, ` +
        `so ${blockers.length === 1 ? 'that device' : 'those devices'} can provision again through group ${groups}`,
    );
  }
  const deletes = done(['deleteEnrollment', 'deleteGroup', 'deleteHubDevices', 'deleteRegistration']).length;
  const tail = deletes > 0 ? '; what it deleted stays deleted' : '';
  return `Restore ${parts.join(' and ')}${tail}; anything changed since is left as it is.`;
};

export const summarize = (r: {
  plan: Plan;
  runId: string;
  journalPath: string;
  state: string;
  results: readonly (StepResult | undefined)[];
  verdicts: ReadonlyMap<string, ReenrollmentVerdict[]>;
  journalError: string | undefined;
  refusal?: string | undefined;
}): RunSummary => {
  const temporary = r.plan.steps.some(
    // A hub disable through import/export jobs is as temporary as one by calls.
    (s, i) => TEMPORARY.has(asCallStep(s.op).kind) && r.results[i]?.outcome === 'succeeded',
  );
  const state: RunSummary['state'] =
    r.state === 'completed' || r.state === 'completedWithFailures' ? r.state : 'aborted';
  return {
    runId: r.runId,
    journalPath: r.journalPath,
    state,
    results: r.results.filter((x): x is StepResult => x !== undefined),
    verify: [...r.verdicts.values()].flat(),
    ...(temporary && !r.plan.restoreOf
      ? {
          restoreCommand: commandLine('restore', r.runId, '--yes'),
          restoreUndoes: restoreWords(r.plan, r.results),
        }
      : {}),
    ...(r.journalError ? { journalError: r.journalError } : {}),
    ...(r.refusal ? { refusal: r.refusal } : {}),
  };
};
