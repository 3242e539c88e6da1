/**
 * Issue 14 §7: on the Enrollments screen's groups tab, `o` takes a typed group ID; a group that no
 * longer exists goes to the review of deleting the registration records it left (the orphaned-records
 * actions), an existing one is said to have no orphaned records.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ORPHANED_RECORDS_ACTIONS } from '../../src/core/selection.js';
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

async function openGroupsTab() {
  const backend = new FakeBackend(demoData());
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
