/**
 * The summary says how the run's verify read each hub when an export job read one (the verdicts then
 * rest on the registry the job wrote, not on queries), in 80 columns; nothing when every hub was queried.
 */
import { describe, expect, it } from 'vitest';
import type { HubReadReport } from '../../src/core/hub-read-path.js';
import { SAFE_ACTIONS } from '../../src/core/selection.js';
import { summaryLayout } from '../../src/screens/components/summary-lines.js';
import type { RunSummary } from '../../src/services/backend.js';
import { textWidth } from '../../src/terminal/text.js';
import { FakeBackend } from '../support/fake-backend.js';
import { demoData, deviceRow } from './fixtures.js';

const EU = 'hub-eu.azure-devices.net';
const US = 'hub-us.azure-devices.net';

async function layout(reports: HubReadReport[]) {
  const data = demoData();
  data.devices = { ...data.devices, g1: [deviceRow('meter-1'), deviceRow('meter-2', US)] };
  const backend = new FakeBackend(data);
  const planned = await backend.plan({ kind: 'group', groupId: 'g1' }, SAFE_ACTIONS);
  if (!planned.ok) throw new Error('plan refused');
  const summary: RunSummary = {
    runId: 'r1',
    journalPath: '/tmp/r1.jsonl',
    state: 'completed',
    results: planned.plan.steps.map((s) => ({ stepId: s.id, outcome: 'succeeded', attempts: 1 })),
    verify: [],
  };
  return summaryLayout(planned.plan, summary, 78, undefined, reports).lines;
}

describe('the summary: how verify read the hubs', () => {
  it('an export job read a hub: a line per hub under a heading, each within the width', async () => {
    const lines = await layout([
      { hub: EU, path: 'export', reason: '--hub-path jobs', deviceIds: 1 },
      { hub: US, path: 'queries', reason: '1 query, 3 s; a job ~1 min', deviceIds: 1 },
    ]);
    const texts = lines.map((l) => l.text);
    expect(texts).toContain('Hub reads: (how verify read each hub)');
    expect(texts).toContain(`  ${EU}: export job, no keys, 1 ID (--hub-path jobs)`);
    expect(texts.some((t) => t.startsWith(`  ${US}: queries, 1 ID`))).toBe(true);
    for (const t of texts) expect(textWidth(t), t).toBeLessThanOrEqual(78);
  });

  it('an export that failed is said in the danger tone', async () => {
    const lines = await layout([
      { hub: EU, path: 'failed', reason: 'the export job on hub-eu failed: quota', deviceIds: 2 },
    ]);
    const row = lines.find((l) => l.text.includes('export job failed'));
    expect(row?.tone).toBe('danger');
  });

  it('every hub queried: nothing said (the verdict lines are the whole story)', async () => {
    const lines = await layout([{ hub: EU, path: 'queries', reason: '1 query, 3 s', deviceIds: 2 }]);
    expect(lines.some((l) => l.text.startsWith('Hub reads'))).toBe(false);
  });
});
