/**
 * One plan step against the ports, with the outcomes that make a run safe to repeat: a delete of
 * something already gone and a disable of something already disabled are `alreadyDone`; a blocker
 * is re-read and must come back disabled. On resume (`recheck`), the service is READ first, so a
 * call that may already have happened is not made again when its effect is there.
 *
 * This module dispatches a step to its kind (dps-steps.ts, hub-steps.ts, hub-job-step.ts) and runs the
 * verify step; the types steps share are in step-types.ts, the services they count against in
 * step-services.ts (all re-exported here).
 */
import type { PlanStep } from '../../core/plan-types.js';
import { dpsStep } from './dps-steps.js';
import { jobServiceOf } from './hub-job.js';
import { hubJobDevicesStep, hubStep } from './hub-steps.js';
import type { Execution, StepEnv } from './step-types.js';

export type { CallFn, DeviceResult, Execution, PriorJob, StepEnv, VerifyFn } from './step-types.js';
export { queryServiceOf, serviceOf } from './step-services.js';
/** The limiter's name for a hub's job calls (create, get, cancel). */
export { jobServiceOf };

const verify = async (env: StepEnv, registrationIds: string[]): Promise<Execution> => {
  if (!env.verify) return { outcome: 'skipped', message: 'no verification was available for this run' };
  const verdicts = await env.verify(registrationIds);
  const allowed = verdicts.filter((v) => v.verdict === 'allowed');
  const possible = verdicts.filter((v) => v.verdict === 'possible');
  if (!env.restore && allowed.length > 0) {
    const first = allowed[0];
    const more = allowed.length > 1 ? ` (and ${allowed.length - 1} more)` : '';
    return {
      outcome: 'failed',
      verdicts,
      message: `${first.registrationId} could provision again: ${first.reason}${more}`,
    };
  }
  const notBack = env.restore ? verdicts.filter((v) => v.notBack) : [];
  if (notBack.length > 0) {
    const first = notBack[0];
    const more = notBack.length > 1 ? ` (and ${notBack.length - 1} more)` : '';
    return {
      outcome: 'failed',
      verdicts,
      message: `${first.registrationId} is not back as it was: ${first.notBack}${more}`,
    };
  }
  const message =
    possible.length > 0 ? `${possible.length} device(s) might re-enroll: ${possible[0].reason}` : undefined;
  return { outcome: 'succeeded', verdicts, message };
};

/** One plan step: the verify step here, the others by the module of their kind. */
export const performStep = async (step: PlanStep, env: StepEnv): Promise<Execution> => {
  const op = step.op;
  switch (op.kind) {
    case 'snapshotRegistrations': {
      const count = await env.ensureSnapshot();
      return { outcome: 'succeeded', message: `${count} registration records in the journal` };
    }
    case 'disableHubDevices':
    case 'enableHubDevices':
    case 'deleteHubDevices':
      return hubStep(env, op);
    case 'hubJobDevices':
      return hubJobDevicesStep(env, op);
    case 'verify':
      return verify(env, op.registrationIds);
    default:
      return dpsStep(env, op);
  }
};
