/**
 * Emulator benchmarks: seeding 100,000 devices, saving and loading that state, requests per second
 * through the real Registry client on loopback (throttle off, 32 in flight), memory at 100,000 devices.
 * Bounded loops, loopback only; figures are printed, never asserted.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistry } from '../src/services/azure/clients.js';
import { parseEndpoint } from '../src/services/azure/endpoint.js';
import { startEmulator } from '../src/services/emulator/index.js';
import { StateSaver } from '../src/services/emulator/persistence.js';
import { seedLarge } from '../src/services/emulator/seed-large.js';
import { EmulatorStore } from '../src/services/emulator/store.js';
import type { BenchRow } from './report.js';

const DEVICES = 100_000;
const REQUESTS = 4_000;
const CONCURRENCY = 32;
/** The highest hub identity-registry limit (S3, one unit): 5,000 operations a minute. */
const S3_PER_SECOND = 5000 / 60;

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

export async function benchEmulator(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'emulator-bench-'));
  const statePath = join(dir, 'state.json');
  try {
    let t = process.hrtime.bigint();
    const store = EmulatorStore.create();
    await seedLarge(store, DEVICES);
    rows.push({ bench: 'emulator', metric: 'seed 100,000 devices', value: Math.round(ms(t)), unit: 'ms' });

    const saver = new StateSaver(statePath, store);
    saver.markDirty();
    t = process.hrtime.bigint();
    await saver.close();
    rows.push({
      bench: 'emulator',
      metric: 'save state (100,000 devices)',
      value: Math.round(ms(t)),
      unit: 'ms',
    });
    rows.push({
      bench: 'emulator',
      metric: 'state file size',
      value: Number((statSync(statePath).size / 1e6).toFixed(1)),
      unit: 'MB',
    });

    t = process.hrtime.bigint();
    const em = await startEmulator({ statePath, throttle: false });
    rows.push({ bench: 'emulator', metric: 'load state and start', value: Math.round(ms(t)), unit: 'ms' });
    try {
      const hub = em.hubs[0];
      const registry = createRegistry(
        { kind: 'connectionString', host: hub.host, connectionString: hub.connectionString },
        parseEndpoint(em.url),
      );
      const ids = em.store.deviceIds(em.store.hubByHost(hub.host)!);
      let next = 0;
      t = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < REQUESTS) {
            const i = next++;
            await registry.get(ids[i % ids.length]);
          }
        }),
      );
      const perSecond = REQUESTS / (ms(t) / 1000);
      rows.push({
        bench: 'emulator',
        metric: `device GETs via the SDK (${CONCURRENCY} in flight)`,
        value: Math.round(perSecond),
        unit: 'req/s',
        ratio: perSecond / S3_PER_SECOND,
        reference: 'the S3 one-unit identity limit (83/s)',
      });
      rows.push({
        bench: 'emulator',
        metric: 'RSS with 100,000 devices loaded',
        value: Math.round(process.memoryUsage().rss / 1e6),
        unit: 'MB',
      });
    } finally {
      await em.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
