/**
 * The one Backend: the Azure adapters (pointed at Azure or at the emulator), the planner, the executor
 * and the journal, wired together. The TUI and the headless commands both use it.
 */
import { commandLine } from '../../core/invocation.js';
import { readDeviceCertificate } from '../device-certificate-file.js';
import {
  chainsOf,
  evidenceFor,
  hubStepsOf,
  priorDeviceIds,
  priorFromPlan,
  sameTarget,
  selectedIds,
  selectionGroupId,
  withHeldCertificates,
} from '../../core/evidence.js';
import { isServiceError, ServiceError } from '../../core/errors.js';
import type { KnownState, ParsedCertificate, ReenrollmentVerdict } from '../../core/model.js';
import { planDeprovision } from '../../core/plan.js';
import type { Plan, PlanResult } from '../../core/plan-types.js';
import type { DpsPort, HubDirectory } from '../../core/ports.js';
import { createReenrollmentAnalyzer } from '../../core/reenrollment.js';
import type { Actions, Selection } from '../../core/selection.js';
import type {
  Backend,
  DeviceRow,
  EnrollmentGroupSummary,
  RegistrationAttempt,
  RunHandle,
  TargetInfo,
} from '../backend.js';
import { execute, resumeRun, type RunLimits } from '../executor/index.js';
import { readJournal } from '../journal/reader.js';
import { listRuns } from '../journal/runs.js';
import { preflightJobStorage, preflightWrites } from '../preflight.js';
import { groupsDeletedWithRecordsLeft } from '../journal/leftovers.js';
import {
  planRestore,
  restoreReads,
  targetsActedOn,
  hubDeviceKey,
  type RestoreContext,
} from '../../core/restore.js';
import type { EnrollmentGroup, HubDevice, IndividualEnrollment } from '../../core/model.js';
import { formatTimestamp } from '../../core/text.js';
import { sameHost, targetOf } from '../journal/runs.js';
import type { Env } from '../journal/paths.js';
import { openJournal } from '../journal/writer.js';
import { mapLimited } from '../concurrency.js';
import { createReadLimiter } from '../executor/read-limiter.js';
import { limitedDps, limitedHubs } from './reads.js';
import { cleanIds, findDevices } from './device-search.js';
import { hubIdentityChecks, hubQueriesPerMinute } from '../../core/hub-lookup.js';
import { shortHost } from '../../core/text.js';
import { UserError } from '../../core/errors.js';
import type { HubPathChoice } from '../../core/hub-path.js';
import { standardTier } from '../../core/hub-tier.js';
import type { HubPathOptions } from '../../core/plan-hub-path.js';
import type { JobStorage } from '../storage/job-storage.js';
import { type HubReadReport, hubReadLines } from '../../core/hub-read-path.js';
import { createExportReads, type ExportReads } from './export-read.js';
import {
  collect,
  type LookupOptions,
  lookupHubIdentities,
  readHubDevices,
  readKnownState,
  readRecords,
} from './read-state.js';

/** A device ID no hub holds (the credential check reads it: "not found" means the key works). */
const CREDENTIAL_CHECK_DEVICE = 'iot-deprovision-credential-check';

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
  jobStorage?: JobStorage;
  /** Why there is no job storage and jobs need --job-storage (the sandbox without its Azurite). */
  jobStorageMissing?: string;
}

/** The configured hubs the person named to skip, as host names; a name that is no configured hub is bad input. */
function resolveSkippedHubs(names: string[] | undefined, hosts: string[]): string[] {
  return (names ?? []).map((name) => {
    const wanted = name.trim().toLowerCase();
    const host = hosts.find((h) => h.toLowerCase() === wanted || shortHost(h).toLowerCase() === wanted);
    if (!host) {
      const shown = name.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
      throw new UserError(
        `--skip-hub-lookup "${shown}" is none of the hubs the tool has credentials for ` +
          `(${hosts.map(shortHost).join(', ') || 'none'}): name one of those, or leave the flag out`,
      );
    }
    return host;
  });
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
  // The executor calls the ports itself (its limiter, its retries); every read of the session goes
  // through the read limiter, under the same per-service limits.
  const readLimiter = createReadLimiter({
    dpsHost: options.dps.host,
    limits: options.limits,
    signal: options.signal,
  });
  const dps = limitedDps(options.dps, readLimiter);
  const hubs = limitedHubs(options.hubs, readLimiter);
  const held = options.certificates ?? {};
  const countLimit = options.countLimit ?? 1000;
  const skipped = resolveSkippedHubs(options.skipHubLookup, hubs.hosts());
  const queriesPerMinute = (host: string) =>
    hubQueriesPerMinute(
      options.limits?.hubs?.[host] ?? options.limits?.defaultHub ?? { tier: 'S1', units: 1 },
    );
  const lookupOptions = (extraDeviceIds: string[] = []): LookupOptions => ({
    skip: skipped,
    queriesPerMinute: (host) => queriesPerMinute(host),
    timeScale: options.limits?.timeScale,
    extraDeviceIds,
    ...(options.onNotice ? { onNotice: options.onNotice } : {}),
  });
  /** Verify's hub reads: through one export job per hub where the path choice takes it (export-read.ts). */
  let lastHubReads: ExportReads | undefined;
  const verifyReads = (): ExportReads => {
    lastHubReads = createExportReads({
      hubs: options.hubs,
      choice: options.hubPath ?? 'auto',
      ...(options.jobStorage ? { storage: options.jobStorage } : {}),
      queriesPerMinute,
      limiter: readLimiter,
      ...(options.limits?.timeScale ? { timeScale: options.limits.timeScale } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return lastHubReads;
  };
  /** Said once a run's verify phase has read a hub through an export job, or failed to (headless: stderr). */
  const tellHubReads = (reads: ExportReads) => {
    const reports = reads.reports();
    if (reports.every((r) => r.path === 'queries')) return;
    for (const line of hubReadLines(reports)) options.onNotice?.(line);
  };
  /** What the planner and verify need; `lookup`: also look the devices up on every hub (see read-state). */
  const read = (selection: Selection, lookup = true, extraDeviceIds: string[] = [], reads?: ExportReads) =>
    readKnownState(dps, hubs, selection, {
      caCertificates: options.caCertificates,
      ...(lookup ? { lookup: lookupOptions(extraDeviceIds) } : {}),
      ...(reads ? { exportReads: reads } : {}),
    });

  const verifyAgainst = (
    selection: Selection,
    state: KnownState,
    ids: string[],
    prior?: KnownState,
    expected?: Map<string, { hub: string; deviceId: string }[]>,
  ): ReenrollmentVerdict[] => {
    const analyze = createReenrollmentAnalyzer(state);
    const groupId = selectionGroupId(selection);
    const hubChecks = hubIdentityChecks(ids, state, { prior, expected });
    return evidenceFor(ids, state, chainsOf(selection, held), prior, groupId).map((e) => {
      const { uncertain: _u, ...verdict } = analyze(e);
      return { ...verdict, hubs: hubChecks.get(e.registrationId) ?? [] };
    });
  };

  /**
   * When the selected enrollment or group is gone, the newest recorded run on it says what it was (how its
   * devices attested), so that verify can still answer precisely.
   */
  const journaledPrior = async (selection: Selection, state: KnownState): Promise<KnownState | undefined> => {
    const present =
      selection.kind === 'enrollment'
        ? state.individualEnrollments.some((e) => e.registrationId === selection.registrationId)
        : selection.kind === 'devices'
          ? true
          : state.enrollmentGroups.some((g) => g.enrollmentGroupId === selection.groupId) &&
            state.registrations.length > 0;
    if (present) return undefined;
    for (const run of await listRuns(options.env)) {
      if (run.error || run.restoreOf || !sameTarget(run.selection, selection)) continue;
      const contents = await readJournal(run.path).catch(() => undefined);
      if (contents?.plan?.prior) return priorFromPlan(contents.plan);
    }
    return undefined;
  };

  const verifyFor = (selection: Selection, prior?: KnownState, plan?: Plan) => {
    // One fresh read for all verify steps of a run (they come in chunks of up to 1,000 devices).
    let state: Promise<KnownState> | undefined;
    const expected = hubStepsOf(plan);
    return async (ids: string[]) => {
      if (!state) {
        const reads = verifyReads();
        state = read(selection, true, priorDeviceIds(prior, expected), reads);
        state.then(() => tellHubReads(reads)).catch(() => {});
      }
      return verifyAgainst(selection, await state, ids, prior, expected);
    };
  };

  /**
   * A restore run's verify: the targets are back as they were before the run it restores. A device DPS
   * still refuses (a blocker left, a group still disabled) or whose re-enabled hub identity is not
   * enabled is marked `notBack`, which fails the verify step.
   */
  const verifyRestore = (plan: Plan, prior?: KnownState) => {
    let state: Promise<KnownState> | undefined;
    const hubOf = new Map<string, { hub: string; deviceId: string }>();
    const dpsLess = new Set(
      plan.selection.kind === 'devices' ? (plan.selection.parts?.unenrolled ?? []) : [],
    );
    for (const step of plan.steps) {
      const op = step.op;
      const enables =
        op.kind === 'enableHubDevices' || (op.kind === 'hubJobDevices' && op.action === 'enable');
      if (!enables) continue;
      for (const [i, deviceId] of op.deviceIds.entries()) {
        hubOf.set(step.registrationIds[i] ?? deviceId, { hub: op.hub, deviceId });
      }
    }
    return async (ids: string[]) => {
      if (!state) {
        const reads = verifyReads();
        state = read(plan.selection, true, [], reads);
        state.then(() => tellHubReads(reads)).catch(() => {});
      }
      const now = await state;
      return mapLimited(verifyAgainst(plan.selection, now, ids, prior), 8, async (v) => {
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

  /** What a restore compares with what the run left: its targets now, and later runs that acted on them. */
  const restoreContext = async (
    contents: Awaited<ReturnType<typeof readJournal>>,
    plan: Plan,
  ): Promise<RestoreContext> => {
    const runId = contents.header.runId;
    const results = [...contents.results.values()];
    const reads = restoreReads(plan, results);
    const laterRuns = new Map<string, string[]>();
    const mine = targetOf(contents.header);
    // Oldest first, so a target names the runs in the order they acted.
    for (const run of (await listRuns(options.env)).reverse()) {
      if (run.error || run.runId === runId) continue;
      if (
        run.createdAt < contents.header.createdAt ||
        (run.createdAt === contents.header.createdAt && run.runId < runId)
      )
        continue;
      // A run of another DPS did not act on these targets; one of an unknown target may have.
      if (mine && run.target && !sameHost(run.target.dpsHost, mine.dpsHost)) continue;
      const later = await readJournal(run.path).catch(() => undefined);
      if (!later?.plan) continue;
      for (const key of targetsActedOn(later.plan, later.results, later.unknownSteps)) {
        laterRuns.set(key, [...(laterRuns.get(key) ?? []), run.runId]);
      }
    }
    const enrollments = new Map<string, IndividualEnrollment | null>();
    for (const [id, e] of await mapLimited(
      reads.enrollments,
      8,
      async (id) => [id, await dps.getEnrollment(id)] as const,
    )) {
      enrollments.set(id, e ?? null);
    }
    const groups = new Map<string, EnrollmentGroup | null>();
    for (const id of reads.groups) groups.set(id, (await dps.getGroup(id)) ?? null);
    const hubDevices = new Map<string, HubDevice | null>();
    const { devices, errors } = await readHubDevices(
      hubs,
      reads.hubDevices.map((d) => ({
        registrationId: d.deviceId,
        deviceId: d.deviceId,
        assignedHub: d.hub,
        status: 'assigned',
      })),
    );
    for (const d of reads.hubDevices) {
      // A hub that could not be read is not compared (its enable step reports what it finds).
      if (!hubs.get(d.hub.toLowerCase()) || errors.has(d.hub.toLowerCase())) continue;
      hubDevices.set(hubDeviceKey(d.hub, d.deviceId), null);
    }
    for (const d of devices) hubDevices.set(hubDeviceKey(d.hub, d.deviceId), d);
    return { enrollments, groups, hubDevices, laterRuns, outcomeAt: contents.resultAt };
  };

  /**
   * Every hub given credentials answers one cheap read (an identity that does not exist) before the first
   * change: a wrong key on a hub the plan does not even touch is refused, naming the hub, not found later.
   */
  let hubsChecked: Promise<void> | undefined;
  const checkHubCredentials = (): Promise<void> => {
    hubsChecked ??= Promise.all(
      hubs.hosts().map(async (host) => {
        try {
          await hubs.get(host)?.getDevice(CREDENTIAL_CHECK_DEVICE);
        } catch (e) {
          if (!isServiceError(e)) throw e;
          const refused = e.kind === 'unauthorized' || e.kind === 'forbidden';
          throw new ServiceError(
            e.kind,
            refused
              ? `hub ${host}: its credentials were refused (${e.details.status ?? e.kind}) when checked before the run: ` +
                  `${e.message}. Nothing was changed.`
              : `hub ${host} could not be checked before the run: ${e.message}. Nothing was changed.`,
            { ...e.details, target: host },
          );
        }
      }),
    ).then(() => undefined);
    // A failed check is not remembered: the person may fix the hub and try again in the same session.
    hubsChecked.catch(() => {
      hubsChecked = undefined;
    });
    return hubsChecked;
  };

  /** Devices named by ID: where DPS has each (searching the groups' records, with progress on stderr). */
  const resolved = async (selection: Selection): Promise<Selection> => {
    if (selection.kind !== 'devices' || selection.parts) return selection;
    let told = false;
    const parts = await findDevices(dps, selection.ids, (p) => {
      if (told || !options.onNotice || p.groups === 0) return;
      told = true;
      options.onNotice(
        `Searching the registration records of ${p.groups} enrollment group(s) for ${p.remaining} device ID(s) ` +
          'with no individual enrollment (paged reads, within the DPS operation budget)…',
      );
    });
    return { ...selection, ids: cleanIds(selection.ids), parts };
  };

  /** The planner's hub-path choice: the hubs' capacity as the limits give it. */
  const hubPathOptions = (choice: HubPathOptions['choice']): HubPathOptions => ({
    choice,
    storageConfigured: options.jobStorage !== undefined,
    ...(options.jobStorageMissing
      ? { noStorageReason: `no job storage: ${options.jobStorageMissing}; give --job-storage` }
      : {}),
    ...(options.jobStorage ? { storageDisplay: options.jobStorage.display } : {}),
    capacity: (hub) => {
      const c = options.limits?.hubs?.[hub.toLowerCase()] ?? options.limits?.defaultHub;
      return { tier: standardTier(c?.tier ?? 'S1'), units: c?.units ?? 1 };
    },
  });
  /** A plan with job steps runs only with job storage: said before anything runs (bad input, exit 2). */
  const needJobStorage = (plan: Plan | undefined): void => {
    if (options.jobStorage || !plan?.steps.some((s) => s.op.kind === 'hubJobDevices')) return;
    const why = options.jobStorageMissing ? `, and ${options.jobStorageMissing}` : '';
    throw new UserError(
      `this run's hub steps go through the hubs' import/export jobs${why}: give --job-storage with the blob ` +
        'container URL and its SAS, or ACCOUNT/CONTAINER to sign in with Entra ID (or set ' +
        'IOT_DEPROVISION_JOB_STORAGE); nothing changed',
    );
  };
  const backend: SessionBackend = {
    target: options.target,

    listEnrollments: () => collect(dps.listEnrollments()),

    async listGroups(): Promise<EnrollmentGroupSummary[]> {
      const groups = await collect(dps.listGroups());
      return mapLimited(groups, 4, async (g) => {
        let deviceCount = 0;
        for await (const page of dps.listGroupRegistrations(g.enrollmentGroupId)) {
          deviceCount += page.length;
          if (deviceCount >= countLimit) return { ...g, deviceCount, deviceCountIsLowerBound: true };
        }
        return { ...g, deviceCount };
      });
    },

    async loadDevices(target): Promise<DeviceRow[]> {
      const selection: Selection =
        target.kind === 'enrollment' ? { kind: 'enrollment', registrationId: target.registrationId } : target;
      const records = await readRecords(dps, selection);
      const { devices, errors } = await readHubDevices(hubs, records);
      const byKey = new Map(devices.map((d) => [`${d.hub.toLowerCase()}/${d.deviceId}`, d]));
      return records.map((record) => {
        const hub = record.assignedHub?.toLowerCase();
        const hubDevice = hub ? byKey.get(`${hub}/${record.deviceId ?? record.registrationId}`) : undefined;
        const hubError = hub ? errors.get(hub) : undefined;
        return { record, ...(hubDevice ? { hubDevice } : {}), ...(hubError ? { hubError } : {}) };
      });
    },

    findDevices: (ids, onProgress) => findDevices(dps, ids, onProgress),

    async plan(given: Selection, actions: Actions): Promise<PlanResult> {
      const chosen = await resolved(given);
      // Kept hub identities need no lookup: nothing is done on the hubs (except for devices DPS does not have).
      const lookup =
        actions.deregister !== 'none' || (chosen.kind === 'devices' && !!chosen.parts?.unenrolled.length);
      const state = await read(chosen, lookup);
      const selection = withHeldCertificates(chosen, state, held);
      return planDeprovision(selection, actions, state, {
        certificates: chainsOf(selection, held),
        now: new Date(),
        hubPath: hubPathOptions(options.hubPath ?? 'auto'),
      });
    },

    async run(plan: Plan, before?: KnownState): Promise<RunHandle> {
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
    },

    async resume(journalPath, opts = {}) {
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
    },

    async planRestore(journalPath) {
      const contents = await readJournal(journalPath);
      if (!contents.plan) {
        return {
          ok: false,
          refusal: {
            code: 'unknown-target',
            message: `run ${contents.header.runId} stopped before its plan was journaled: nothing to restore`,
          },
        };
      }
      const runId = contents.header.runId;
      // Restore undoes one run once: a second restore would undo what happened since the first.
      const restores = (await listRuns(options.env)).filter((r) => r.restoreOf === runId).reverse();
      if (restores.length > 0) {
        const by = restores[0];
        const finished = by.state === 'completed' || by.state === 'completedWithFailures';
        return {
          ok: false,
          refusal: {
            code: 'already-restored',
            message:
              `run ${runId} was already restored by run ${by.runId} (${formatTimestamp(by.createdAt)} UTC, ${by.state}); nothing changed. ` +
              (finished
                ? 'A restore undoes a run once; what changed since is left as it is.'
                : `To finish that restore: ${commandLine('resume', by.runId)}`),
          },
        };
      }
      if (contents.header.restoreOf) {
        return {
          ok: false,
          refusal: {
            code: 'invalid-selection',
            message: `run ${runId} is itself the restore of run ${contents.header.restoreOf}: there is nothing of it to undo`,
          },
        };
      }
      const context = await restoreContext(contents, contents.plan);
      return planRestore(runId, contents.plan, [...contents.results.values()], {
        ...context,
        hubPath: hubPathOptions(options.hubPath ?? 'auto'),
      });
    },

    async verify(given: Selection): Promise<ReenrollmentVerdict[]> {
      const selection = await resolved(given);
      const reads = verifyReads();
      let state = await read(selection, true, [], reads);
      const prior = await journaledPrior(selection, state);
      // A group whose records were deleted: its devices are the ones the run's snapshot recorded.
      const ids = selectedIds(selection, state.registrations.length === 0 && prior ? prior : state);
      const extra = priorDeviceIds(prior, new Map());
      if (extra.length > 0) {
        // Their records are gone: look their device IDs up too, so their identities are still reported.
        const more = await lookupHubIdentities(hubs, extra, { ...lookupOptions(), exportReads: reads });
        if (more.refused) throw more.refused;
        state = { ...state, hubDevices: [...state.hubDevices, ...more.devices] };
      }
      return verifyAgainst(selection, state, ids, prior);
    },

    readDeviceCertificate: (path, group, registrationId) =>
      readDeviceCertificate(path, group, registrationId, {
        caCertificates: options.caCertificates,
        now: new Date(),
      }),
    hubReads: () => lastHubReads?.reports() ?? [],
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
