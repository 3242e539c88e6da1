/**
 * Where DPS has each device named by its ID (on-call: "find device"): the individual enrollment with
 * that registration ID, else the enrollment group whose registration records hold it. The groups'
 * records are searched page by page through the session's read limiter (each page is one DPS operation
 * of the 1,000 a minute), stopping as soon as every ID is found; progress is reported per page.
 */
import type { DeviceParts, Selection } from '../../core/selection.js';
import { mapLimited } from '../concurrency.js';
import { collect } from './read-state.js';
import type { DpsReads } from './reads.js';

export interface SearchProgress {
  /** Groups whose records were searched so far, of all groups. */
  groupsSearched: number;
  groups: number;
  /** Registration records read so far. */
  recordsRead: number;
  /** IDs still not found. */
  remaining: number;
}

/** The IDs as given: trimmed, empty ones and repeats left out (order kept). */
export const cleanIds = (ids: string[]): string[] => [
  ...new Set(ids.map((i) => i.trim()).filter((i) => i !== '')),
];

export async function findDevices(
  dps: DpsReads,
  ids: string[],
  onProgress?: (p: SearchProgress) => void,
): Promise<DeviceParts> {
  const wanted = cleanIds(ids);
  const individual = await mapLimited(wanted, 8, async (id) =>
    (await dps.getEnrollment(id)) ? id : undefined,
  );
  const enrollments = individual.filter((id): id is string => id !== undefined);
  const remaining = new Set(wanted.filter((id) => !enrollments.includes(id)));
  const byGroup = new Map<string, string[]>();
  if (remaining.size > 0) {
    const groups = await collect(dps.listGroups());
    const progress: SearchProgress = {
      groupsSearched: 0,
      groups: groups.length,
      recordsRead: 0,
      remaining: remaining.size,
    };
    onProgress?.({ ...progress });
    for (const g of groups) {
      if (remaining.size === 0) break;
      for await (const page of dps.listGroupRegistrations(g.enrollmentGroupId)) {
        progress.recordsRead += page.length;
        for (const r of page) {
          if (!remaining.has(r.registrationId)) continue;
          remaining.delete(r.registrationId);
          byGroup.set(g.enrollmentGroupId, [...(byGroup.get(g.enrollmentGroupId) ?? []), r.registrationId]);
        }
        progress.remaining = remaining.size;
        onProgress?.({ ...progress });
        if (remaining.size === 0) break;
      }
      progress.groupsSearched++;
      onProgress?.({ ...progress });
    }
  }
  return {
    enrollments,
    groups: [...byGroup].map(([groupId, found]) => ({
      groupId,
      devices: found.map((registrationId) => ({ registrationId })),
    })),
    unenrolled: wanted.filter((id) => remaining.has(id)),
  };
}

/**
 * Devices named by ID: where DPS has each (searching the groups' records, with progress told once through
 * `onNotice`: headless, stderr). Other selections, and devices already found, are returned as they are.
 */
export async function resolveSelection(
  dps: DpsReads,
  selection: Selection,
  onNotice?: (text: string) => void,
): Promise<Selection> {
  if (selection.kind !== 'devices' || selection.parts) return selection;
  let told = false;
  const parts = await findDevices(dps, selection.ids, (p) => {
    if (told || !onNotice || p.groups === 0) return;
    told = true;
    onNotice(
      `Searching the registration records of ${p.groups} enrollment group(s) for ${p.remaining} device ID(s) ` +
        'with no individual enrollment (paged reads, within the DPS operation budget)…',
    );
  });
  return { ...selection, ids: cleanIds(selection.ids), parts };
}
