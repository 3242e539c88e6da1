/**
 * An in-memory Backend for component tests of the screens (never for planner/executor tests).
 * It builds a small plan of its own and runs it only when the test says so (`advance`), so every
 * progress update a test expects is one it caused.
 */
import type { CertificateInfo, EnrollmentGroup, IndividualEnrollment } from '../../src/core/model.js';
import { readDeviceCertificate } from '../../src/services/device-certificate-file.js';
import {
  PHASES,
  type Phase,
  type Plan,
  type PlanRefusal,
  type PlanResult,
  type PlanStep,
  type PlanWarning,
  type StepOperation,
  type StepOutcome,
  type StepResult,
} from '../../src/core/plan-types.js';
import type { PhaseProgress, RunProgress } from '../../src/core/run-events.js';
import type { Actions, Selection } from '../../src/core/selection.js';
import type {
  Backend,
  DeviceRow,
  DeviceVerdict,
  EnrollmentGroupSummary,
  RegistrationAttempt,
  RunHandle,
  RunSummary,
  TargetInfo,
} from '../../src/services/backend.js';

export interface FakeData {
  target?: Partial<TargetInfo>;
  enrollments?: IndividualEnrollment[];
  groups?: EnrollmentGroupSummary[];
  /** Device rows keyed by enrollment registration ID or group ID. */
  devices?: Record<string, DeviceRow[]>;
  warnings?: (s: Selection, a: Actions) => PlanWarning[];
  refuse?: (s: Selection, a: Actions) => PlanRefusal | undefined;
  verify?: DeviceVerdict[];
  /** Verified CA certificates by name (groups with caReferences). */
  caCertificates?: Record<string, CertificateInfo>;
  /**
   * Scripted answers for "try to register this device now"; without it the backend has no
   * `attemptRegistration` at all (like the Azure backends).
   */
  attempt?: (registrationId: string) => RegistrationAttempt | Promise<RegistrationAttempt>;
}

const emptyPhase = (): PhaseProgress => ({
  total: 0,
  done: 0,
  alreadyDone: 0,
  failed: 0,
  skipped: 0,
  inFlight: 0,
});

export class FakeRun implements RunHandle {
  readonly runId: string;
  readonly journalPath: string;
  done: Promise<RunSummary>;
  readonly calls: string[] = [];
  private resolveDone!: (s: RunSummary) => void;
  private listeners = new Set<(p: RunProgress) => void>();
  private outcomes = new Map<string, StepOutcome>();
  private state: RunProgress;
  private runningState = 'running';

  constructor(
    readonly plan: Plan,
    private readonly verify: DeviceVerdict[],
    index: number,
  ) {
    this.runId = `run-${index}`;
    this.journalPath = `/tmp/iot-deprovision/${this.runId}.jsonl`;
    const phases = Object.fromEntries(PHASES.map((p) => [p, emptyPhase()])) as Record<Phase, PhaseProgress>;
    for (const step of plan.steps) phases[step.phase].total++;
    this.state = {
      state: 'running',
      phase: 'snapshot',
      phases,
      throttled: undefined,
      recent: [],
      startedAtMs: Date.now(),
    };
    this.done = this.newDone();
  }

  private newDone(): Promise<RunSummary> {
    return new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  progress(): RunProgress {
    return this.state;
  }

  subscribe(listener: (p: RunProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replace the progress (a new object, as a real machine snapshot would be) and notify. */
  update(change: Partial<RunProgress>): void {
    this.state = { ...this.state, ...change };
    for (const l of this.listeners) l(this.state);
  }

  throttle(service: string, waitMs: number): void {
    this.update({ throttled: { service, untilMs: Date.now() + waitMs } });
  }

  pause(): void {
    this.calls.push('pause');
    this.update({ state: 'paused' });
  }

  resume(): void {
    this.calls.push('resume');
    this.update({ state: this.runningState });
  }

  abort(): void {
    this.calls.push('abort');
    this.update({ state: 'aborting' });
    // In-flight calls "finish" on the next turn of the event loop.
    setTimeout(() => this.finish('aborted'), 0);
  }

  retryFailed(): void {
    this.calls.push('retryFailed');
    const phases = structuredClone(this.state.phases);
    for (const [id, outcome] of this.outcomes) {
      if (outcome !== 'failed') continue;
      this.outcomes.delete(id);
      const step = this.plan.steps.find((s) => s.id === id) as PlanStep;
      phases[step.phase].failed--;
    }
    this.done = this.newDone();
    this.update({ state: this.runningState, phases });
  }

  /** Finish the next `count` pending steps with `outcome`; settles the run when none are left. */
  advance(count = 1, outcome: StepOutcome = 'succeeded', message?: string): void {
    const phases = structuredClone(this.state.phases);
    const recent = [...this.state.recent];
    let phase = this.state.phase;
    for (const step of this.plan.steps) {
      if (count === 0) break;
      if (this.outcomes.has(step.id)) continue;
      this.outcomes.set(step.id, outcome);
      const counters = phases[step.phase];
      if (outcome === 'succeeded') counters.done++;
      else counters[outcome]++;
      recent.push({ stepId: step.id, label: step.registrationIds[0] ?? step.id, outcome, message });
      phase = step.phase;
      count--;
    }
    this.update({ phases, recent: recent.slice(-50), phase });
    if (this.outcomes.size === this.plan.steps.length) {
      const failed = [...this.outcomes.values()].includes('failed');
      this.finish(failed ? 'completedWithFailures' : 'completed');
    }
  }

  finish(state: RunSummary['state']): void {
    this.update({ state });
    const results: StepResult[] = [...this.outcomes].map(([stepId, outcome]) => ({
      stepId,
      outcome,
      attempts: 1,
      message: outcome === 'failed' ? 'hub answered 500' : undefined,
    }));
    const temporary = this.plan.actions.disenroll === 'disable' || this.plan.actions.deregister === 'disable';
    this.resolveDone({
      runId: this.runId,
      journalPath: this.journalPath,
      state,
      results,
      verify: this.verify,
      restoreCommand: temporary ? `iot-deprovision restore ${this.runId} --yes` : undefined,
    });
  }
}

function op(phase: Phase, index: number, operation: StepOperation, call: string, ids: string[]): PlanStep {
  return {
    id: `${phase}:${index}`,
    phase,
    op: operation,
    call,
    destructive: phase !== 'snapshot',
    registrationIds: ids,
  };
}

export class FakeBackend implements Backend {
  readonly target: TargetInfo;
  readonly planCalls: { selection: Selection; actions: Actions }[] = [];
  readonly runs: FakeRun[] = [];
  /** Registration IDs in the order the screens asked them to register. */
  readonly attemptCalls: string[] = [];
  attemptRegistration?: (registrationId: string) => Promise<RegistrationAttempt>;
  closed = false;

  constructor(private readonly data: FakeData = {}) {
    const script = data.attempt;
    if (script) {
      this.attemptRegistration = async (registrationId) => {
        this.attemptCalls.push(registrationId);
        return script(registrationId);
      };
    }
    this.target = {
      kind: 'sandbox',
      dpsHost: 'sandbox-dps.azure-devices-provisioning.net',
      dpsAuth: 'connection string',
      hubs: [{ host: 'hub-eu.azure-devices.net', auth: 'connection string', hasCredentials: true }],
      endpoint: 'http://127.0.0.1:47011',
      ...data.target,
    };
  }

  get lastRun(): FakeRun {
    const run = this.runs.at(-1);
    if (!run) throw new Error('no run was started');
    return run;
  }

  async listEnrollments(): Promise<IndividualEnrollment[]> {
    return this.data.enrollments ?? [];
  }

  async listGroups(): Promise<EnrollmentGroupSummary[]> {
    return this.data.groups ?? [];
  }

  async loadDevices(
    t: { kind: 'enrollment'; registrationId: string } | { kind: 'group'; groupId: string },
  ): Promise<DeviceRow[]> {
    return this.data.devices?.[t.kind === 'enrollment' ? t.registrationId : t.groupId] ?? [];
  }

  /** The real file reader and check (the screens' certificate prompt is tested with real files). */
  readDeviceCertificate(path: string, group: EnrollmentGroup, registrationId: string) {
    return readDeviceCertificate(path, group, registrationId, {
      ...(this.data.caCertificates ? { caCertificates: this.data.caCertificates } : {}),
    });
  }

  async plan(selection: Selection, actions: Actions): Promise<PlanResult> {
    this.planCalls.push({ selection, actions });
    const refusal = this.data.refuse?.(selection, actions);
    if (refusal) return { ok: false, refusal };
    const rows = this.devicesOf(selection);
    const steps: PlanStep[] = [];
    if (selection.kind === 'group') {
      steps.push(
        op(
          'snapshot',
          0,
          { kind: 'snapshotRegistrations', groupId: selection.groupId, count: rows.length },
          'journal snapshot',
          [],
        ),
      );
      steps.push(
        op(
          'disenroll',
          0,
          { kind: 'disableGroup', groupId: selection.groupId },
          `PUT enrollmentGroups/${selection.groupId} provisioningStatus=disabled`,
          [],
        ),
      );
    } else if (selection.kind === 'enrollment') {
      const kind = actions.disenroll === 'delete' ? 'deleteEnrollment' : 'disableEnrollment';
      steps.push(
        op(
          'disenroll',
          0,
          { kind, registrationId: selection.registrationId },
          `${kind} enrollments/${selection.registrationId}`,
          [selection.registrationId],
        ),
      );
    } else if (selection.kind === 'groupDevices') {
      selection.devices.forEach((d, i) => {
        steps.push(
          op(
            'disenroll',
            i,
            {
              kind: 'createBlocker',
              registrationId: d.registrationId,
              groupId: selection.groupId,
              attestation: d.certificatePem ? 'x509' : 'symmetricKey',
              ...(d.certificatePem ? { certificatePem: d.certificatePem } : {}),
            },
            `PUT enrollments/${d.registrationId} (new, provisioningStatus=disabled, ${
              d.certificatePem ? 'X.509 blocker from the device certificate' : 'symmetric key blocker'
            })`,
            [d.registrationId],
          ),
        );
      });
    }
    if (actions.deregister !== 'none') {
      rows.forEach((r, i) => {
        const hub = r.record.assignedHub ?? 'unknown';
        const kind = actions.deregister === 'delete' ? 'deleteHubDevices' : 'disableHubDevices';
        const deviceId = r.record.deviceId ?? r.record.registrationId;
        steps.push(
          op('deregister', i, { kind, hub, deviceIds: [deviceId] }, `${kind} ${hub}/devices/${deviceId}`, [
            r.record.registrationId,
          ]),
        );
      });
    }
    if (selection.kind === 'group' && actions.deleteRegistrations) {
      rows.forEach((r, i) => {
        const id = r.record.registrationId;
        steps.push(
          op('cleanup', i, { kind: 'deleteRegistration', registrationId: id }, `DELETE registrations/${id}`, [
            id,
          ]),
        );
      });
    }
    if (selection.kind === 'group' && (actions.deleteGroup || actions.disenroll === 'delete')) {
      const id = selection.groupId;
      steps.push(
        op('cleanup', rows.length, { kind: 'deleteGroup', groupId: id }, `DELETE enrollmentGroups/${id}`, []),
      );
    }
    const ids = rows.map((r) => r.record.registrationId);
    steps.push(op('verify', 0, { kind: 'verify', registrationIds: ids }, 'read back and analyse', ids));
    const stepCounts = Object.fromEntries(PHASES.map((p) => [p, steps.filter((s) => s.phase === p).length]));
    const devicesPerHub: Record<string, number> = {};
    for (const r of rows) {
      const hub = r.record.assignedHub ?? 'unassigned';
      devicesPerHub[hub] = (devicesPerHub[hub] ?? 0) + 1;
    }
    const plan: Plan = {
      selection,
      actions,
      steps,
      warnings: this.data.warnings?.(selection, actions) ?? [],
      snapshot: rows.map((r) => r.record),
      counts: { steps: stepCounts as Record<Phase, number>, devicesPerHub, devices: rows.length },
    };
    return { ok: true, plan };
  }

  async run(plan: Plan): Promise<RunHandle> {
    const run = new FakeRun(plan, this.data.verify ?? [], this.runs.length + 1);
    this.runs.push(run);
    return run;
  }

  async verify(): Promise<DeviceVerdict[]> {
    return this.data.verify ?? [];
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private devicesOf(selection: Selection): DeviceRow[] {
    if (selection.kind === 'enrollment') return this.data.devices?.[selection.registrationId] ?? [];
    if (selection.kind === 'devices') {
      const wanted = new Set(selection.ids);
      return Object.values(this.data.devices ?? {})
        .flat()
        .filter((r) => wanted.has(r.record.registrationId));
    }
    const rows = this.data.devices?.[selection.groupId] ?? [];
    if (selection.kind === 'group') return rows;
    const chosen = new Set(selection.devices.map((d) => d.registrationId));
    return rows.filter((r) => chosen.has(r.record.registrationId));
  }
}
