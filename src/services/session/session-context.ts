/**
 * What the parts of one session share, built once by createBackend: its options, the DPS and hub ports
 * behind the read limiter, the certificates the tool holds, the hubs not searched, and the read of the
 * known state that the planner, verify and restore start from.
 */
import { UserError } from '../../core/errors.js';
import { hubQueriesPerMinute } from '../../core/hub-lookup.js';
import type { KnownState, ParsedCertificate } from '../../core/model.js';
import type { Selection } from '../../core/selection.js';
import { shortHost } from '../../core/text.js';
import { createReadLimiter, type ReadLimiter } from '../executor/read-limiter.js';
import type { BackendOptions } from './create-backend.js';
import type { ExportReads } from './export-read.js';
import { type LookupOptions, readKnownState } from './read-state.js';
import { type DpsReads, type HubReadDirectory, limitedDps, limitedHubs } from './reads.js';

export interface SessionContext {
  options: BackendOptions;
  /** Every read of the session waits its turn here (the executor has its own limiter for its calls). */
  readLimiter: ReadLimiter;
  dps: DpsReads;
  hubs: HubReadDirectory;
  /** Device certificate chains the tool holds, by registration ID. */
  held: Record<string, ParsedCertificate[]>;
  /** A hub's query budget (queries a minute), from the limits given. */
  queriesPerMinute: (host: string) => number;
  lookupOptions: (extraDeviceIds?: string[]) => LookupOptions;
  /** What the planner and verify need; `lookup`: also look the devices up on every hub (see read-state). */
  read: (
    selection: Selection,
    lookup?: boolean,
    extraDeviceIds?: string[],
    reads?: ExportReads,
  ) => Promise<KnownState>;
}

/** The configured hubs the person named to skip, as host names; a name that is no configured hub is bad input. */
function resolveSkippedHubs(names: string[] | undefined, hosts: string[]): string[] {
  return (names ?? []).map((name) => {
    const wanted = name.trim().toLowerCase();
    const host = hosts.find((h) => h.toLowerCase() === wanted || shortHost(h).toLowerCase() === wanted);
    if (!host) {
      const shown = name.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
      throw new UserError(
        `--skip-hub-lookup "${shown}" is none of the hubs the tool has credentials for ` +
          `(${hosts.map(shortHost).join(', ') || 'none'}): name one of those, or leave the flag out`,
      );
    }
    return host;
  });
}

export function createSessionContext(options: BackendOptions): SessionContext {
  // The executor calls the ports itself (its limiter, its retries); every read of the session goes
  // through the read limiter, under the same per-service limits.
  const readLimiter = createReadLimiter({
    dpsHost: options.dps.host,
    limits: options.limits,
    signal: options.signal,
  });
  const dps = limitedDps(options.dps, readLimiter);
  const hubs = limitedHubs(options.hubs, readLimiter);
  const held = options.certificates ?? {};
  const skipped = resolveSkippedHubs(options.skipHubLookup, hubs.hosts());
  const queriesPerMinute = (host: string) =>
    hubQueriesPerMinute(
      options.limits?.hubs?.[host] ?? options.limits?.defaultHub ?? { tier: 'S1', units: 1 },
    );
  const lookupOptions = (extraDeviceIds: string[] = []): LookupOptions => ({
    skip: skipped,
    queriesPerMinute: (host) => queriesPerMinute(host),
    timeScale: options.limits?.timeScale,
    extraDeviceIds,
    ...(options.onNotice ? { onNotice: options.onNotice } : {}),
  });
  const read = (selection: Selection, lookup = true, extraDeviceIds: string[] = [], reads?: ExportReads) =>
    readKnownState(dps, hubs, selection, {
      caCertificates: options.caCertificates,
      ...(lookup ? { lookup: lookupOptions(extraDeviceIds) } : {}),
      ...(reads ? { exportReads: reads } : {}),
    });
  return { options, readLimiter, dps, hubs, held, queriesPerMinute, lookupOptions, read };
}
