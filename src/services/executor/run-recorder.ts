/**
 * The run's journaling: the journal the engine writes (opened again for a retry after it closed at a
 * final state), each step's outcome and verdicts, the devices of bulk steps as they settle, the jobs job
 * steps create, the snapshot, the run's marks and its end. The first error writing it is kept as the
 * run's journal error and stops the run, so that what happened stays recoverable.
 */
import type { Plan, StepResult } from '../../core/plan-types.js';
import type { ReenrollmentVerdict } from '../../core/model.js';
import type { RunSummary } from '../backend.js';
import { scrubSecrets } from '../journal/redact.js';
import type { RunJournal } from '../journal/writer.js';
import type { DeviceResult, StepEnv } from './step-types.js';

/** A journal failure as the run says it: its message, never a secret it might quote. */
const journalErrorText = (e: unknown): string => scrubSecrets((e as Error)?.message ?? String(e));

export class RunRecorder {
  /** Why the journal could not be written (or opened again): the run's journal error. */
  error: string | undefined;
  private journal: RunJournal;
  private open = true;

  constructor(
    journal: RunJournal,
    /** Opens the journal again for appending after it was closed at a final state (retry-failed). */
    private readonly reopenJournal: () => Promise<RunJournal>,
    /** Stops the run (the journal cannot be written). */
    private readonly stopRun: () => void,
  ) {
    this.journal = journal;
  }

  /** The journal written now (intents are appended to it by the calls). */
  get current(): RunJournal {
    return this.journal;
  }

  /** False once the run's end closed it (until a retry opens it again). */
  get isOpen(): boolean {
    return this.open;
  }

  get path(): string {
    return this.journal.path;
  }

  mark(m: Parameters<RunJournal['appendMark']>[0]): void {
    if (this.open) this.journal.appendMark(m).catch((e) => this.fail(e));
  }

  /** A step skipped because a prerequisite failed (not durable: it changed nothing). */
  skipped(result: StepResult): void {
    this.journal.appendOutcome(result, false).catch((e) => this.fail(e));
  }

  /** A settled step: its verdicts (a verify step), then its outcome, durable when the step is destructive. */
  async outcome(result: StepResult, destructive: boolean, verdicts?: ReenrollmentVerdict[]): Promise<void> {
    try {
      if (verdicts) await this.journal.appendVerify(result.stepId, verdicts);
      await this.journal.appendOutcome(result, destructive);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Devices of a bulk step that settled while the step goes on. */
  async progress(stepId: string, devices: DeviceResult[]): Promise<void> {
    if (this.open) await this.journal.appendProgress(stepId, devices);
  }

  /** A hub import/export job a step created (its ID and blob names, never a SAS). */
  async job(stepId: string, job: Parameters<NonNullable<StepEnv['jobStarted']>>[0]): Promise<void> {
    if (this.open)
      await this.journal.appendJob(stepId, {
        hub: job.hub,
        jobId: job.jobId,
        jobType: job.type,
        blobs: job.blobs,
        container: job.container,
      });
  }

  /** Journals the snapshot when the journal lacks it; the number of records in it. */
  async snapshot(snapshot: Plan['snapshot']): Promise<number> {
    if (!this.journal.hasSnapshot) await this.journal.appendSnapshot(snapshot);
    return snapshot.length;
  }

  /** The run's end: appended, then the journal is closed (once). */
  async end(state: RunSummary['state']): Promise<void> {
    if (!this.open) return;
    this.open = false;
    try {
      await this.journal.appendEnd(state);
    } catch (e) {
      this.error ??= journalErrorText(e);
    }
    await this.journal.close().catch(() => undefined);
  }

  /** Opens the journal again if it was closed (retry-failed); false (and the error kept) when it cannot. */
  async reopen(): Promise<boolean> {
    if (this.open) return true;
    try {
      this.journal = await this.reopenJournal();
      this.open = true;
      return true;
    } catch (e) {
      this.error = journalErrorText(e);
      return false;
    }
  }

  /** The journal cannot be written: stop the run so that what happened stays recoverable. */
  private fail(e: unknown): void {
    this.error ??= journalErrorText(e);
    this.stopRun();
  }
}
