/** The headless progress line names each hub's import/export job and its state, read from the progress's job states. */
import { describe, expect, it } from 'vitest';
import { formatProgress } from '../../src/commands/format.js';
import type { HubJobState } from '../../src/core/hub-job-state.js';
import type { PhaseProgress, RunProgress } from '../../src/core/run-events.js';

const phase = (total: number, done = 0, inFlight = 0): PhaseProgress => ({
  total,
  done,
  alreadyDone: 0,
  failed: 0,
  skipped: 0,
  inFlight,
});

const progress = (jobs?: HubJobState[]): RunProgress => ({
  state: 'deregistering',
  phase: 'deregister',
  phases: {
    snapshot: phase(1, 1),
    disenroll: phase(1, 1),
    deregister: phase(2, 0, 2),
    cleanup: phase(0),
    verify: phase(1),
  },
  throttled: undefined,
  recent: [],
  startedAtMs: 0,
  ...(jobs ? { jobs } : {}),
});

const EU = 'hub-eu.azure-devices.net';
const US = 'hub-us.azure-devices.net';

describe('formatProgress with hub jobs', () => {
  it('shows each job state, one per jobs step (running with its percentage, failed with its reason)', () => {
    const line = formatProgress(
      progress([
        { hub: EU, type: 'import', status: 'running', percent: 45 },
        { hub: US, type: 'export', status: 'failed', reason: 'storage answered 403' },
      ]),
    );
    expect(line).toBe(
      'deregistering: snapshot 1/1, disenroll 1/1, deregister 0/2 (running), verify 0/1' +
        `  [import job on ${EU}: running 45%; export job on ${US}: failed: storage answered 403]`,
    );
  });

  it('says a step waiting for another job on its hub, a queued job, and a job re-attached after a resume', () => {
    const line = formatProgress(
      progress([
        {
          hub: EU,
          type: 'export',
          status: 'waiting',
          reason: 'another import/export job is active on the hub',
        },
        { hub: US, type: 'import', status: 'queued' },
        { hub: 'hub-asia', type: 'import', status: 'completed', reattached: true },
      ]),
    );
    expect(line).toContain(`[export job on ${EU}: waiting: another import/export job is active on the hub; `);
    expect(line).toContain(`import job on ${US}: queued; `);
    expect(line).toContain('import job on hub-asia (re-attached after resume): completed]');
  });

  it('shows nothing about jobs when no step goes through jobs', () => {
    expect(formatProgress(progress())).not.toContain('[');
  });

  it('passes a job text through the one sanitizer (no terminal control sequences from a service)', () => {
    const line = formatProgress(
      progress([{ hub: 'hub', type: 'import', status: 'failed', reason: '\u001b[2Jbad' }]),
    );
    expect(line).not.toContain('\u001b');
    expect(line).toContain('import job on hub: failed: ');
  });
});
