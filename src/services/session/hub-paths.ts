/**
 * How a plan's hub steps go (queries, or the hubs' import/export jobs): the planner's hub-path options
 * from the session's options, and the refusal of a plan with job steps when there is no job storage.
 */
import { UserError } from '../../core/errors.js';
import { standardTier } from '../../core/hub-tier.js';
import type { HubPathOptions } from '../../core/plan-hub-path.js';
import type { Plan } from '../../core/plan-types.js';
import type { BackendOptions } from './create-backend.js';

/** The planner's hub-path choice: the hubs' capacity as the limits give it. */
export const hubPathOptions = (
  options: BackendOptions,
  choice: HubPathOptions['choice'],
): HubPathOptions => ({
  choice,
  storageConfigured: options.jobStorage !== undefined,
  ...(options.jobStorageMissing
    ? { noStorageReason: `no job storage: ${options.jobStorageMissing}; give --job-storage` }
    : {}),
  ...(options.jobStorage
    ? { storageDisplay: options.jobStorage.display, storageContainers: options.jobStorage.containers.length }
    : {}),
  capacity: (hub) => {
    const c = options.limits?.hubs?.[hub.toLowerCase()] ?? options.limits?.defaultHub;
    return { tier: standardTier(c?.tier ?? 'S1'), units: c?.units ?? 1 };
  },
});

/** A plan with job steps runs only with job storage: said before anything runs (bad input, exit 2). */
export const needJobStorage = (options: BackendOptions, plan: Plan | undefined): void => {
  if (options.jobStorage || !plan?.steps.some((s) => s.op.kind === 'hubJobDevices')) return;
  const why = options.jobStorageMissing ? `, and ${options.jobStorageMissing}` : '';
  throw new UserError(
    `this run's hub steps go through the hubs' import/export jobs${why}: give --job-storage with the blob ` +
      'container URL and its SAS, or ACCOUNT/CONTAINER to sign in with Entra ID (or set ' +
      'IOT_DEPROVISION_JOB_STORAGE); nothing changed',
  );
};
