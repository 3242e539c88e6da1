/**
 * The services the limiter knows: which service a step's calls count against (a DPS instance, a hub, or
 * local work), a hub's separate query budget, and how many operations a minute each may spend.
 */
import { hubQueriesPerMinute } from '../../core/hub-lookup.js';
import type { PlanStep } from '../../core/plan-types.js';
import { hubOpsPerMinute, type RunLimits } from './limits.js';

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
