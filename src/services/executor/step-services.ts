/**
 * The services the limiter knows: which service a step's calls count against (a DPS instance, a hub, or
 * local work), a hub's separate query budget, how many operations a minute each may spend (the run's
 * limiter), how many of its steps may be in flight, and how a step paces itself within them (one hub
 * call's budget, the reads of a job's state).
 */
import { hubQueriesPerMinute } from '../../core/hub-lookup.js';
import { expectedJobMs, JOB_POLL_MAX_MS } from '../../core/job-poll.js';
import type { PlanStep } from '../../core/plan-types.js';
import type { Clock } from './clock.js';
import { hubOpsPerMinute, type RunLimits } from './limits.js';
import { type LimiterEvents, ServiceLimiter } from './rate-limiter.js';
import type { StepEnv } from './step-types.js';

/** The limiter's name for a hub's query budget (separate from its identity operations). */
export const queryServiceOf = (hubService: string): string => `${hubService}#query`;

const QUERY_SUFFIX = queryServiceOf('');

/** Which service a step's calls count against (for rate limits and in-flight caps). */
export const serviceOf = (step: PlanStep, dpsHost: string): string => {
  const op = step.op;
  switch (op.kind) {
    case 'disableHubDevices':
    case 'enableHubDevices':
    case 'deleteHubDevices':
    case 'hubJobDevices':
      return op.hub.toLowerCase();
    case 'snapshotRegistrations':
    case 'verify':
      return 'local';
    default:
      return dpsHost;
  }
};

/** Operations a minute a service may spend: the DPS instance's, a hub's queries, or a hub's identity operations. */
export const serviceOpsPerMinute = (service: string, dpsHost: string, limits: RunLimits): number => {
  if (service === dpsHost) return limits.dpsOpsPerMinute;
  const hub = service.endsWith(QUERY_SUFFIX) ? service.slice(0, -QUERY_SUFFIX.length) : undefined;
  if (hub !== undefined) return hubQueriesPerMinute(limits.hubs[hub] ?? limits.defaultHub);
  return hubOpsPerMinute(limits.hubs[service] ?? limits.defaultHub);
};

/** The run's limiter: each service at its allowance (scaled); its throttle notices go to `events`. */
export const serviceLimiterFor = (
  clock: Clock,
  dpsHost: string,
  limits: RunLimits,
  events: LimiterEvents,
): ServiceLimiter =>
  new ServiceLimiter(
    clock,
    (service) => serviceOpsPerMinute(service, dpsHost, limits),
    limits.timeScale,
    limits.burstSeconds,
    limits.throttleNoticeMs,
    events,
  );

/** Steps of local work (snapshot, verify) in flight at once. */
const LOCAL_IN_FLIGHT = 2;

/** How many steps of a service may be in flight at once. */
export const inFlightCap = (
  service: string,
  limiter: Pick<ServiceLimiter, 'isSlowed'>,
  limits: RunLimits,
): number =>
  // After a 429 a service gets one call at a time until its rate is restored: parallel calls would
  // keep draining its bucket and meet each other's Retry-After as new 429s.
  service === 'local' ? LOCAL_IN_FLIGHT : limiter.isSlowed(service) ? 1 : limits.maxInFlightPerService;

/** How a step paces itself within the limits: one hub call's budget, and the reads of its jobs' states. */
export const stepPaceOf = (
  step: PlanStep,
  limits: RunLimits,
): Pick<StepEnv, 'hubCallBudget' | 'jobExpectedMs' | 'jobPollMaxMs'> => ({
  // Half of a minute's allowance: a call that needs a full bucket would meet any timing noise as a 429.
  hubCallBudget: (hub) => hubOpsPerMinute(limits.hubs[hub] ?? limits.defaultHub) / 2,
  // How long each job of the step is expected to run (service time, scaled like the limits): one
  // job over the step's devices (a disable's export reads the whole hub, maybe more: a rough guide).
  ...(step.op.kind === 'hubJobDevices'
    ? { jobExpectedMs: expectedJobMs(step.op.deviceIds.length) / limits.timeScale }
    : {}),
  jobPollMaxMs: JOB_POLL_MAX_MS / limits.timeScale,
});
