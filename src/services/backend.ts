/**
 * The application boundary the TUI and the headless commands use. One implementation
 * (`createBackend`) wires the Azure adapters (for Azure or the embedded emulator), the planner,
 * the executor and the journal together.
 */
import type { HubReadReport } from '../core/hub-read-path.js';
import type { DeviceCertificate } from '../core/device-certificate.js';
import type {
  EnrollmentGroup,
  HubDevice,
  IndividualEnrollment,
  KnownState,
  ReenrollmentVerdict,
  RegistrationRecord,
} from '../core/model.js';
import type { Plan, PlanResult, StepResult } from '../core/plan-types.js';
import type { RunProgress } from '../core/run-events.js';
import type { Actions, Selection } from '../core/selection.js';
import type { JournalContents } from './journal/reader.js';
import type { DeviceParts } from '../core/selection.js';
import type { SearchProgress } from './session/device-search.js';
import type { RunListing } from './journal/runs.js';
import type { GroupLeftWithRecords } from './journal/leftovers.js';
import type { RegistrationOutcome } from './device/register.js';
import type { SendOutcome } from './device/send.js';

export interface TargetInfo {
  kind: 'sandbox' | 'azure';
  dpsHost: string;
  /** 'connection string' | 'Entra ID (DefaultAzureCredential)' — never the secret itself. */
  dpsAuth: string;
  hubs: { host: string; auth: string; hasCredentials: boolean }[];
  /** Endpoint the SDK requests go to when not Azure (emulator URL). */
  endpoint?: string;
}

export interface EnrollmentGroupSummary extends EnrollmentGroup {
  /** Registration records counted for the group (undefined while not counted). */
  deviceCount?: number;
  /** True when counting stopped early (counting costs DPS calls): the group has at least deviceCount. */
  deviceCountIsLowerBound?: boolean;
}

export interface DeviceRow {
  record: RegistrationRecord;
  /** The identity on its assigned hub: undefined = not read / not found. */
  hubDevice?: HubDevice;
  hubError?: string;
}

export type DeviceVerdict = ReenrollmentVerdict;

export interface RunHandle {
  runId: string;
  journalPath: string;
  /** Current progress (cheap to call; views poll or subscribe). */
  progress(): RunProgress;
  /** Called on every change of progress (throttle the rendering on the view side). */
  subscribe(listener: (p: RunProgress) => void): () => void;
  pause(): void;
  resume(): void;
  /** Safe stop: in-flight calls finish, the journal says where it stopped. */
  abort(): void;
  /** Puts failed steps back to pending and runs them; `done` is then a new promise for the retried run. */
  retryFailed(): void;
  /** Settles when the run reaches a final state (read it again after `retryFailed()`). */
  done: Promise<RunSummary>;
}

export interface RunSummary {
  runId: string;
  journalPath: string;
  state: 'completed' | 'completedWithFailures' | 'aborted';
  results: StepResult[];
  verify: DeviceVerdict[];
  /** The exact command that undoes the temporary actions, when any were done. */
  restoreCommand?: string;
  /** What that command undoes, in words (set with restoreCommand). */
  restoreUndoes?: string;
  /** Set when the journal could not be written: the run stopped (aborted) to stay recoverable. */
  journalError?: string;
  /**
   * Set when a service refused a changing call for the credential or a missing permission (401/403):
   * the run stopped there (aborted) before any other change; what was refused and what to grant.
   */
  refusal?: string;
}

/**
 * What DPS answered when the device itself tried to register (sandbox: the emulator), or why it was
 * not tried (`unavailable`: the tool holds no credentials for that device).
 */
export type RegistrationAttempt = (RegistrationOutcome | { outcome: 'unavailable'; reason: string }) & {
  /** The device's telemetry to the hub it was assigned to, with the credentials it holds, before it registered. */
  hubSend?: HubSendAttempt;
};

/** What the hub answered when the device sent with the credentials it holds, or why it did not try. */
export type HubSendAttempt = SendOutcome | { outcome: 'unavailable'; reason: string };

export interface Backend {
  target: TargetInfo;
  listEnrollments(): Promise<IndividualEnrollment[]>;
  listGroups(): Promise<EnrollmentGroupSummary[]>;
  /** Registration records of the selection with their hub identities. */
  loadDevices(
    target: { kind: 'enrollment'; registrationId: string } | { kind: 'group'; groupId: string },
  ): Promise<DeviceRow[]>;
  /** Reads what the plan needs, then runs the planner. Changes nothing. */
  plan(selection: Selection, actions: Actions): Promise<PlanResult>;
  /**
   * Executes a plan (journaled). `before`: the state the plan was made from (PlanResult.before), for
   * the run's verify; without it the plan's own `prior` and snapshot stand in.
   */
  run(plan: Plan, before?: KnownState): Promise<RunHandle>;
  verify(selection: Selection): Promise<DeviceVerdict[]>;
  /**
   * Registers the device for real with its own credentials and returns DPS's answer. Present only when
   * the backend holds device credentials (the sandbox); it changes DPS and hub state like a device would.
   */
  attemptRegistration?(registrationId: string): Promise<RegistrationAttempt>;
  /**
   * Reads the PEM file at `path` and checks it as the certificate of device `registrationId` of X.509
   * group `group` (readable, a certificate, its CN, its chain to the group's CA). Throws a UserError
   * (code 'certificate') saying what is wrong; changes nothing.
   */
  readDeviceCertificate?(
    path: string,
    group: EnrollmentGroup,
    registrationId: string,
  ): Promise<DeviceCertificate>;
  /**
   * Where DPS has each device named by its ID (individual enrollment, else the group whose records hold
   * it; the groups' records are searched with progress). Hub identities are found when planning.
   */
  findDevices?(ids: string[], onProgress?: (p: SearchProgress) => void): Promise<DeviceParts>;
  /**
   * How the last verify (a run's verify phase too) read each hub: by queries, or through one export job
   * (the summary says so when an export job read a hub). Absent: the backend reads hubs by queries only.
   */
  hubReads?(): HubReadReport[];
  /** The journaled runs, newest first (the TUI's Runs screen); absent when the backend keeps no journals. */
  listRuns?(): Promise<RunListing[]>;
  /**
   * The enrollment groups journaled runs on this DPS deleted while their registration records were left
   * (orphaned records), newest first: offered for cleanup. Absent when the backend keeps no journals.
   */
  groupsLeftWithRecords?(): Promise<GroupLeftWithRecords[]>;
  /** One journaled run read back (its plan, its steps' outcomes). */
  readRun?(journalPath: string): Promise<JournalContents>;
  /** Finishes a recorded run from its journal (steps already settled are not redone). */
  resume?(journalPath: string, opts?: { retryFailed?: boolean }): Promise<RunHandle>;
  /** The plan that undoes the temporary actions of a recorded run. */
  planRestore?(journalPath: string): Promise<PlanResult>;
  close(): Promise<void>;
}
