/** The headless progress line names each hub's import/export job and its state. */
import { describe, expect, it } from 'vitest';
import { formatProgress } from '../../src/commands/format.js';
import type { PhaseProgress, RunProgress } from '../../src/core/run-events.js';

const phase = (total: number, done = 0, inFlight = 0): PhaseProgress => ({
  total,
  done,
  alreadyDone: 0,
  failed: 0,
  skipped: 0,
  inFlight,
});

const progress = (jobs?: string[]): RunProgress => ({
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

describe('formatProgress with hub jobs', () => {
  it('shows each job state, one per jobs step (running with its percentage, failed with its reason)', () => {
    const line = formatProgress(
      progress([
        'import job on hub-eu.azure-devices.net: running 45%',
        'export job on hub-us.azure-devices.net: failed: storage answered 403',
      ]),
    );
    expect(line).toBe(
      'deregistering: snapshot 1/1, disenroll 1/1, deregister 0/2 (running), verify 0/1' +
        '  [import job on hub-eu.azure-devices.net: running 45%; export job on hub-us.azure-devices.net: failed: storage answered 403]',
    );
  });

  it('shows nothing about jobs when no step goes through jobs', () => {
    expect(formatProgress(progress())).not.toContain('[');
  });

  it('passes a job text through the one sanitizer (no terminal control sequences from a service)', () => {
    const line = formatProgress(progress(['import job on hub: failed: \u001b[2Jbad']));
    expect(line).not.toContain('\u001b');
  });
});
