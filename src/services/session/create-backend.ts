/**
 * The one Backend: the Azure adapters (pointed at Azure or at the emulator), the planner, the executor
 * and the journal, wired together. The TUI and the headless commands both use it.
 */
import { chainsOf, priorFromPlan, withHeldCertificates } from '../../core/evidence.js';
import type { HubPathChoice } from '../../core/hub-path.js';
import type { HubReadReport } from '../../core/hub-read-path.js';
import type { KnownState, ParsedCertificate } from '../../core/model.js';
import { planDeprovision } from '../../core/plan.js';
import type { Plan, PlanResult } from '../../core/plan-types.js';
import type { DpsPort, HubDirectory } from '../../core/ports.js';
import type { Actions, Selection } from '../../core/selection.js';
import type { Backend, RegistrationAttempt, RunHandle, TargetInfo } from '../backend.js';
import { readDeviceCertificate } from '../device-certificate-file.js';
import { execute, resumeRun, type RunLimits } from '../executor/index.js';
import { groupsDeletedWithRecordsLeft } from '../journal/leftovers.js';
import type { Env } from '../journal/paths.js';
import { readJournal } from '../journal/reader.js';
import { listRuns } from '../journal/runs.js';
import { openJournal } from '../journal/writer.js';
import { preflightJobStorage, preflightWrites } from '../preflight.js';
import type { JobStoragePool } from '../storage/job-storage-pool.js';
import { findDevices, resolveSelection } from './device-search.js';
import { createHubCredentialsCheck } from './hub-credentials.js';
import { hubPathOptions, needJobStorage } from './hub-paths.js';
import { listGroupSummaries, loadDeviceRows } from './listings.js';
import { collect } from './read-state.js';
import { planRestoreOf } from './restore-planning.js';
import { createSessionContext } from './session-context.js';
import { createVerifier, type Verifier } from './verify-reads.js';

export interface BackendOptions {
  target: TargetInfo;
  dps: DpsPort;
  hubs: HubDirectory;
  limits?: Partial<RunLimits>;
  /** Where journals go ($XDG_STATE_HOME); defaults to process.env. */
  env?: Env;
  /** Device certificate chains the tool holds (the sandbox's demo devices), by registration ID. */
  certificates?: Record<string, ParsedCertificate[]>;
  /** Verified CA certificates known by name (the sandbox knows them; Azure's data plane does not). */
  caCertificates?: KnownState['caCertificates'];
  /** Ctrl-C: aborts a run safely. */
  signal?: AbortSignal;
  /** Groups with more records than this show a lower-bound count in lists (counting costs DPS calls). */
  countLimit?: number;
  /** The sandbox's state file: recorded in run journals, so a sandbox run resumes and restores on it. */
  sandboxState?: string;
  onClose?: () => Promise<void>;
  /** Registers a device with its own credentials, when the backend holds them (the sandbox). */
  attemptRegistration?: (registrationId: string) => Promise<RegistrationAttempt>;
  /**
   * Hubs (host names, or their first label: "hub-us") on which the selected devices' IDs are not looked
   * up (--skip-hub-lookup). Every other hub with credentials is searched for identities no record names.
   */
  skipHubLookup?: string[];
  /** Told what a long hub lookup costs before it starts (headless commands: stderr). */
  onNotice?: (text: string) => void;
  /** --hub-path: how each hub's step goes (default auto: jobs where faster, when job storage is given). */
  hubPath?: HubPathChoice;
  /** Where the hubs' import/export jobs read and write (--job-storage, or the sandbox's own). */
  jobStorage?: JobStoragePool;
  /** Why there is no job storage and jobs need --job-storage (the sandbox without its Azurite). */
  jobStorageMissing?: string;
}

/** The Backend plus what only the headless commands need. */
export interface SessionBackend extends Backend {
  /** Finishes a recorded run from its journal (steps already settled are not redone). */
  resume(journalPath: string, opts?: { retryFailed?: boolean }): Promise<RunHandle>;
  /** The plan that undoes the temporary actions of a recorded run. */
  planRestore(journalPath: string): Promise<PlanResult>;
  /** How the last verify read each hub (queries, or one export job): one line per hub in its output. */
  hubReads(): HubReadReport[];
}

export function createBackend(options: BackendOptions): SessionBackend {
  const ctx = createSessionContext(options);
  const { dps, hubs, held } = ctx;
  const countLimit = options.countLimit ?? 1000;
  const verifier = createVerifier(ctx);
  const runs: RunParts = {
    options,
    verifier,
    checkHubCredentials: createHubCredentialsCheck(hubs),
    needJobStorage: (plan) => needJobStorage(options, plan),
  };
  /** Devices named by ID: where DPS has each (searching the groups' records, with progress on stderr). */
  const resolved = (selection: Selection): Promise<Selection> =>
    resolveSelection(dps, selection, options.onNotice);

  const backend: SessionBackend = {
    target: options.target,

    listEnrollments: () => collect(dps.listEnrollments()),
    listGroups: () => listGroupSummaries(dps, countLimit),
    loadDevices: (target) => loadDeviceRows(dps, hubs, target),
    findDevices: (ids, onProgress) => findDevices(dps, ids, onProgress),

    async plan(given: Selection, actions: Actions): Promise<PlanResult> {
      const chosen = await resolved(given);
      // Kept hub identities need no lookup: nothing is done on the hubs (except for devices DPS does not have).
      const lookup =
        actions.deregister !== 'none' || (chosen.kind === 'devices' && !!chosen.parts?.unenrolled.length);
      const state = await ctx.read(chosen, lookup);
      const selection = withHeldCertificates(chosen, state, held);
      return planDeprovision(selection, actions, state, {
        certificates: chainsOf(selection, held),
        now: new Date(),
        hubPath: hubPathOptions(options, options.hubPath ?? 'auto'),
      });
    },

    run: (plan, before) => startRun(runs, plan, before),
    resume: (journalPath, opts = {}) => resumeRecordedRun(runs, journalPath, opts),
    planRestore: (journalPath) => planRestoreOf(ctx, journalPath),
    verify: async (given) => verifier.verify(await resolved(given)),

    readDeviceCertificate: (path, group, registrationId) =>
      readDeviceCertificate(path, group, registrationId, {
        caCertificates: options.caCertificates,
        now: new Date(),
      }),
    hubReads: () => verifier.hubReads(),
    listRuns: () => listRuns(options.env),
    groupsLeftWithRecords: () => groupsDeletedWithRecordsLeft(options.env, options.target.dpsHost),
    readRun: (journalPath) => readJournal(journalPath),

    close: async () => {
      await options.onClose?.();
    },
    ...(options.attemptRegistration ? { attemptRegistration: options.attemptRegistration } : {}),
  };
  return backend;
}

/** What starting or resuming a run needs: the checks before any change, and the run's verify. */
interface RunParts {
  options: BackendOptions;
  verifier: Verifier;
  checkHubCredentials: () => Promise<void>;
  needJobStorage: (plan: Plan | undefined) => void;
}

/** Runs a plan, journaled, once the hubs' credentials, the writes and the job storage are checked. */
async function startRun(parts: RunParts, plan: Plan, before?: KnownState): Promise<RunHandle> {
  const { options, checkHubCredentials, needJobStorage } = parts;
  const { verifyFor, verifyRestore } = parts.verifier;
  needJobStorage(plan);
  await checkHubCredentials();
  await preflightWrites(plan, options.hubs);
  await preflightJobStorage(plan, options.jobStorage);
  const journal = await openJournal(
    {
      target: {
        dpsHost: options.dps.host,
        hubHosts: options.hubs.hosts(),
        sandbox: options.target.kind === 'sandbox',
        ...(options.sandboxState ? { sandboxState: options.sandboxState } : {}),
      },
      plan,
    },
    { env: options.env },
  );
  return execute(plan, {
    dps: options.dps,
    hubs: options.hubs,
    journal,
    limits: options.limits,
    signal: options.signal,
    jobStorage: options.jobStorage,
    verify: plan.restoreOf
      ? verifyRestore(plan, priorFromPlan(plan))
      : verifyFor(plan.selection, before ?? priorFromPlan(plan), plan),
  });
}

/** Finishes a recorded run from its journal (steps already settled are not redone). */
async function resumeRecordedRun(
  parts: RunParts,
  journalPath: string,
  opts: { retryFailed?: boolean },
): Promise<RunHandle> {
  const { options, checkHubCredentials, needJobStorage } = parts;
  const { verifyFor, verifyRestore } = parts.verifier;
  const contents = await readJournal(journalPath);
  needJobStorage(contents.plan);
  await checkHubCredentials();
  if (contents.plan) {
    await preflightWrites(contents.plan, options.hubs);
    await preflightJobStorage(contents.plan, options.jobStorage);
  }
  const handle = await resumeRun(journalPath, {
    dps: options.dps,
    hubs: options.hubs,
    limits: options.limits,
    signal: options.signal,
    jobStorage: options.jobStorage,
    retryFailed: opts.retryFailed,
    verify: contents.plan?.restoreOf
      ? verifyRestore(contents.plan, priorFromPlan(contents.plan))
      : verifyFor(
          contents.header.selection,
          contents.plan ? priorFromPlan(contents.plan) : undefined,
          contents.plan,
        ),
  });
  return handle;
}
