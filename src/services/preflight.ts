/**
 * Before the first change of a run: the hubs the plan will change are asked to prove the credential may
 * write, through a write that changes nothing (HubPort.checkWritePermission: a bulk DeleteIfMatchETag of
 * an absent device). A refusal stops the run before it starts: exit 2, the missing permission or role
 * named, nothing changed, no journal.
 *
 * DPS gets no such probe. No DPS write is documented to change nothing for every caller: a bulk
 * `updateIfMatchETag` of an absent enrollment CREATES it, a bulk `delete` ignores ETags, and a single
 * `DELETE /enrollments/{absent}` relies on the service checking permission before existence, which no
 * document says. Instead the run's first changes are the DPS ones (a device's hub step waits for its DPS
 * step), and a 401/403 on a changing call stops the run before any other change (see the executor).
 */
import { isServiceError, ServiceError } from '../core/errors.js';
import type { Plan } from '../core/plan-types.js';
import type { HubDirectory } from '../core/ports.js';
import type { JobStoragePool } from './storage/job-storage-pool.js';

const HUB_WRITES = new Set(['disableHubDevices', 'enableHubDevices', 'deleteHubDevices', 'hubJobDevices']);

/** Hub hosts (lower case) the plan's steps change, in the order the plan names them. */
export function hubsWrittenBy(plan: Plan): string[] {
  const hosts = new Set<string>();
  for (const step of plan.steps) {
    if (HUB_WRITES.has(step.op.kind) && 'hub' in step.op) hosts.add(step.op.hub.toLowerCase());
  }
  return [...hosts];
}

/**
 * Proves write permission on every hub the plan changes; throws a ServiceError (unauthorized or
 * forbidden: exit 2) naming the hub and what to grant when one refuses. Hubs without the check (ports
 * that do not offer it) are not asked.
 */
export async function preflightWrites(plan: Plan, hubs: HubDirectory): Promise<void> {
  const refusals: ServiceError[] = [];
  await Promise.all(
    hubsWrittenBy(plan).map(async (host) => {
      const port = hubs.get(host);
      if (!port?.checkWritePermission) return;
      try {
        await port.checkWritePermission();
      } catch (e) {
        if (isServiceError(e) && (e.kind === 'unauthorized' || e.kind === 'forbidden')) refusals.push(e);
        else throw e;
      }
    }),
  );
  const [first] = refusals;
  if (!first) return;
  const others = refusals.length > 1 ? ` (and ${refusals.length - 1} more hub(s) alike)` : '';
  throw new ServiceError(
    first.kind,
    `the run needs permission to change device identities, and it is missing: ${first.message}${others}. ` +
      'Checked before the run (a write that changes nothing): nothing was changed.',
    { ...first.details },
  );
}

/**
 * Job storage signed in with Entra ID, when the plan has job steps: the tool proves it may make the
 * hub's user delegation SAS and write to the container before the first change (a refusal is a
 * UserError naming the role to assign: exit 2, nothing changed, no journal). A SAS given is not probed.
 */
export async function preflightJobStorage(plan: Plan, storage: JobStoragePool | undefined): Promise<void> {
  if (!storage?.check || !plan.steps.some((s) => s.op.kind === 'hubJobDevices')) return;
  await storage.check();
}
