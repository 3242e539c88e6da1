import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJobStorage } from '../../src/services/storage/job-storage.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';

// The claim that keeps two job steps (of one run, or of runs on different machines) out of one container,
// against a real storage emulator: a lease on a marker blob.
let azurite: AzuriteHandle;

beforeAll(async () => {
  azurite = await startAzurite();
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
});

describe('claiming a job storage container', () => {
  it('a second holder waits until the first releases; the marker is gone after', async () => {
    const url = await azurite.container('claim-wait');
    const first = openJobStorage(url);
    const second = openJobStorage(url);
    const releaseFirst = await first.claim({ holder: 'run-a hub-eu disable' });
    let told!: () => void;
    const waited = new Promise<void>((resolve) => {
      told = resolve;
    });
    let secondHas = false;
    const claimed = second
      .claim({ holder: 'run-b hub-eu disable', retryMs: 20, waiting: () => told() })
      .then((release) => {
        secondHas = true;
        return release;
      });
    await waited;
    expect(secondHas).toBe(false);
    await releaseFirst();
    const releaseSecond = await claimed;
    expect(secondHas).toBe(true);
    await releaseSecond();
    expect(await azurite.blobs('claim-wait')).toEqual([]);
  });

  it('the same holder takes back a lease it left (a resumed step) without waiting', async () => {
    const url = await azurite.container('claim-same');
    const left = await openJobStorage(url).claim({ holder: 'run-a hub-us disable' });
    await left(true); // kept: left to expire, as a stop during an import job does
    let waited = false;
    const again = await openJobStorage(url).claim({
      holder: 'run-a hub-us disable',
      retryMs: 20,
      waiting: () => {
        waited = true;
      },
    });
    expect(waited).toBe(false);
    await again();
    expect(await azurite.blobs('claim-same')).toEqual([]);
  });

  it('a stop while waiting ends the wait with the stop, not a storage failure', async () => {
    const url = await azurite.container('claim-stop');
    const release = await openJobStorage(url).claim({ holder: 'run-a' });
    const stop = new AbortController();
    const waiting = openJobStorage(url).claim({
      holder: 'run-b',
      retryMs: 20,
      signal: stop.signal,
      waiting: () => stop.abort(new Error('stopped by the user')),
    });
    await expect(waiting).rejects.toThrow('stopped by the user');
    await release();
  });
});
