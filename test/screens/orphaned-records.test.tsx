/**
 * Issue 14 §7: on the Enrollments screen's groups tab, `o` takes a typed group ID; a group that no
 * longer exists goes to the review of deleting the registration records it left (the orphaned-records
 * actions), an existing one is said to have no orphaned records.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ORPHANED_RECORDS_ACTIONS } from '../../src/core/selection.js';
import type { GroupLeftWithRecords } from '../../src/services/journal/leftovers.js';
import { FakeBackend } from '../support/fake-backend.js';
import { demoData } from './fixtures.js';
import { type DrivenApp, KEYS, frame as rawFrame, press, renderApp, until } from './helpers.js';

const frame = (t: DrivenApp): string => rawFrame(t).replace(/\s+/g, ' ');
const waitForText = (t: DrivenApp, text: string) => until(() => frame(t).includes(text), `"${text}"`, t);

let t: DrivenApp | undefined;
afterEach(() => {
  t?.unmount();
  t = undefined;
});

async function openGroupsTab(left?: GroupLeftWithRecords[]) {
  const backend = new FakeBackend(demoData());
  if (left) Object.assign(backend, { groupsLeftWithRecords: async () => left });
  t = await renderApp(backend, {
    size: { columns: 80, rows: 24 },
    routes: [{ screen: 'target' }, { screen: 'enrollments' }],
  });
  await waitForText(t, 'dev-tpm-1');
  await press(t, KEYS.tab);
  await waitForText(t, 'g1');
  return { backend, t };
}

describe('orphaned registration records from a typed group ID', () => {
  it('a deleted group ID: the review plans deleting its remaining records, with the orphaned-records actions', async () => {
    const { backend, t } = await openGroupsTab();
    await press(t, 'o');
    await waitForText(t, 'ID of a deleted enrollment group');
    await press(t, 'old-batch');
    expect(frame(t)).toContain('> old-batch');
    await press(t, KEYS.enter);
    await waitForText(t, 'deleted enrollment group old-batch');
    await until(() => backend.planCalls.length > 0, 'a plan', t);
    expect(backend.planCalls.at(-1)).toEqual({
      selection: { kind: 'group', groupId: 'old-batch' },
      actions: ORPHANED_RECORDS_ACTIONS,
    });
  });

  it('an existing group ID: said to have no orphaned records, nothing planned', async () => {
    const { backend, t } = await openGroupsTab();
    await press(t, 'o');
    await press(t, 'g1');
    await press(t, KEYS.enter);
    await waitForText(t, 'still exists, so its records are not orphaned');
    expect(backend.planCalls).toHaveLength(0);
  });
});

describe('orphaned registration records offered from the runs that deleted a group with records left', () => {
  const left: GroupLeftWithRecords[] = [
    {
      groupId: 'old-batch',
      runId: '20261130T101500Z-aaaaaa',
      deletedAt: '2026-11-30T10:15:02Z',
      records: 12,
    },
    // g1 exists again (recreated): its records are not orphaned, so it is not offered.
    { groupId: 'g1', runId: '20261129T090000Z-bbbbbb', deletedAt: '2026-11-29T09:00:01Z', records: 3 },
    { groupId: 'line-7', runId: '20261128T080000Z-cccccc', deletedAt: '2026-11-28T08:00:01Z', records: 1 },
  ];

  it('lists them under the prompt; Down picks one, Enter reviews deleting its records', async () => {
    const { backend, t } = await openGroupsTab(left);
    await press(t, 'o');
    await waitForText(t, 'Deleted by runs with records left');
    expect(frame(t)).toContain(
      'old-batch · 12 records left · run 20261130T101500Z-aaaaaa (2026-11-30 10:15)',
    );
    expect(frame(t)).toContain('line-7 · 1 record left');
    expect(frame(t)).not.toContain('g1 · 3 records left');
    await press(t, KEYS.down);
    await waitForText(t, '> old-batch');
    await press(t, KEYS.down);
    await waitForText(t, '> line-7');
    await press(t, KEYS.up);
    await waitForText(t, '> old-batch');
    await press(t, KEYS.enter);
    await waitForText(t, 'deleted enrollment group old-batch');
    await until(() => backend.planCalls.length > 0, 'a plan', t);
    expect(backend.planCalls.at(-1)).toEqual({
      selection: { kind: 'group', groupId: 'old-batch' },
      actions: ORPHANED_RECORDS_ACTIONS,
    });
  });

  it('a typed ID still works beside them; with no such runs nothing is offered', async () => {
    const { t } = await openGroupsTab([]);
    await press(t, 'o');
    await waitForText(t, 'ID of a deleted enrollment group');
    expect(frame(t)).not.toContain('Deleted by runs with records left');
    await press(t, 'x-old');
    expect(frame(t)).toContain('> x-old');
  });

  it('more than three: the shown window follows the group picked', async () => {
    const many: GroupLeftWithRecords[] = ['b1', 'b2', 'b3', 'b4', 'b5'].map((groupId, k) => ({
      groupId,
      runId: `20261130T10000${k}Z-aaaaaa`,
      deletedAt: `2026-11-30T10:00:0${k}Z`,
      records: k + 1,
    }));
    const { t } = await openGroupsTab(many);
    await press(t, 'o');
    await waitForText(t, '2 more groups');
    expect(frame(t)).not.toContain('b4 ·');
    for (let k = 0; k < 4; k++) await press(t, KEYS.down);
    await waitForText(t, '> b4');
    expect(frame(t)).toContain('› b4 · 4 records left');
    expect(frame(t)).not.toContain('b1 ·');
  });
});
