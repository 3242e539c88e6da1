/** A jobs step's state in the tool's words: the hub's job statuses as a person reads them. */
import { describe, expect, it } from 'vitest';
import { hubJobWords, jobStatusOf } from '../../src/core/hub-job-state.js';

describe('hub job state', () => {
  it('reads "enqueued" and "queued" as one state, keeps the others', () => {
    expect(jobStatusOf('enqueued')).toBe('queued');
    expect(jobStatusOf('queued')).toBe('queued');
    expect(jobStatusOf('running')).toBe('running');
    expect(jobStatusOf('failed')).toBe('failed');
    expect(jobStatusOf('unknown')).toBe('unknown');
  });

  it('a percentage only while running; the reason after the status; the short hub name on request', () => {
    const hub = 'hub-eu.azure-devices.net';
    expect(hubJobWords({ hub, type: 'import', status: 'running', percent: 45 })).toBe(
      `import job on ${hub}: running 45%`,
    );
    expect(hubJobWords({ hub, type: 'import', status: 'completed', percent: 100 }, true)).toBe(
      'import job on hub-eu: completed',
    );
    expect(hubJobWords({ hub, type: 'export', status: 'failed', reason: 'no access' }, true)).toBe(
      'export job on hub-eu: failed: no access',
    );
    expect(hubJobWords({ hub, status: 'waiting', reason: 'the container is in use' }, true)).toBe(
      'hub-eu: waiting: the container is in use',
    );
  });
});
