/**
 * Job storage signed in with Entra ID, against real Azurite over HTTPS with `--oauth basic` (no mock of
 * storage): the tool's own blob calls carry the emulated `az login` token; the hub's jobs get a user
 * delegation SAS the tool makes from a key Azurite hands out, which Azurite then verifies itself.
 */
import { AnonymousCredential, ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../src/core/errors.js';
import { scrubSecrets } from '../../src/services/secrets.js';
import { CHECK_BLOB, CLAIM_BLOB, openJobStorage } from '../../src/services/storage/job-storage.js';
import {
  KEY_LIFETIME_MS,
  KEY_RENEW_BELOW_MS,
  storageClientOptions,
} from '../../src/services/storage/user-delegation.js';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';

let azurite: AzuriteHandle;

beforeAll(async () => {
  azurite = await startAzurite({ oauth: true });
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
});

/** A container, and its URL without a SAS (the Entra ID form). */
const containerUrl = async (name: string): Promise<string> => {
  await azurite.container(name);
  return `${azurite.blobUrl}/${name}`;
};

/** What a hub's job can do with the SAS URL it is given: list the container through it alone. */
const listWithSas = async (sasUrl: string): Promise<string[]> => {
  const c = new ContainerClient(sasUrl, new AnonymousCredential(), storageClientOptions(azurite.ca));
  const names: string[] = [];
  for await (const b of c.listBlobsFlat()) names.push(b.name);
  return names;
};

describe('a container URL without a SAS, signed in with Entra ID', () => {
  it('the tool writes, reads and lists with its token; the hub gets a user delegation SAS that Azurite accepts', async () => {
    const url = await containerUrl('entra-basic');
    const storage = openJobStorage(url, { credential: azurite.signIn(), ca: azurite.ca });
    expect(storage.display).toBe(url);
    await storage.check?.();
    await storage.writeText('devices.txt', '{"id":"d1"}\n');
    expect(await storage.readText('devices.txt')).toBe('{"id":"d1"}\n');
    const release = await storage.claim({ holder: 'run-1 hub-eu disable' });
    const sas = new URL(storage.url);
    // A user delegation SAS (signed object and tenant), for this container, over HTTPS only.
    expect(sas.searchParams.get('skoid')).toBeTruthy();
    expect(sas.searchParams.get('sktid')).toBeTruthy();
    expect(sas.searchParams.get('sr')).toBe('c');
    expect(sas.searchParams.get('sp')).toBe('racwdl');
    expect(sas.searchParams.get('spr')).toBe('https');
    expect(`${sas.origin}${sas.pathname}`).toBe(url);
    expect((await listWithSas(storage.url)).sort()).toEqual(['devices.txt', CLAIM_BLOB]);
    // The SAS is a registered secret: any text holding it is scrubbed.
    const signature = sas.searchParams.get('sig') as string;
    expect(scrubSecrets(`job failed: ${storage.url}`)).not.toContain(signature);
    await release();
    await storage.delete('devices.txt');
    // The probe the check wrote is gone too.
    expect(await storage.list()).not.toContain(CHECK_BLOB);
  });

  it('a key running low is replaced when a step takes the container: each step starts with hours of SAS left', async () => {
    const url = await containerUrl('entra-renew');
    // The first step began 10 hours ago: its key (12 hours) has 2 hours left now.
    let now = new Date(Date.now() - 10 * 3_600_000);
    const storage = openJobStorage(url, { credential: azurite.signIn(), ca: azurite.ca, now: () => now });
    (await storage.claim({ holder: 'step-1' }))();
    const first = storage.url;
    const firstExpiry = Date.parse(new URL(first).searchParams.get('se') as string);
    expect(firstExpiry - now.getTime()).toBeGreaterThanOrEqual(KEY_LIFETIME_MS - 1000);
    // Taken again within the renewal margin: the same SAS.
    now = new Date(now.getTime() + 60_000);
    await (await storage.claim({ holder: 'step-2' }))();
    expect(storage.url).toBe(first);
    // Now (less than KEY_RENEW_BELOW_MS left): a new key and SAS, expiring a full lifetime from now.
    now = new Date();
    expect(firstExpiry - now.getTime()).toBeLessThan(KEY_RENEW_BELOW_MS);
    await (await storage.claim({ holder: 'step-3' }))();
    const second = storage.url;
    expect(second).not.toBe(first);
    const secondExpiry = Date.parse(new URL(second).searchParams.get('se') as string);
    expect(secondExpiry - now.getTime()).toBeGreaterThanOrEqual(KEY_LIFETIME_MS - 1000);
    // Both work on Azurite (the first has two hours left), each verified against its own key.
    expect(await listWithSas(first)).toEqual([]);
    expect(await listWithSas(second)).toEqual([]);
  });

  it('ACCOUNT/CONTAINER names the account on Azure', () => {
    const storage = openJobStorage('contosojobs/iot-jobs', { credential: azurite.signIn() });
    expect(storage.display).toBe('https://contosojobs.blob.core.windows.net/iot-jobs');
  });

  it('a token storage refuses is bad input before any change: sign in again, no token in the message', async () => {
    const url = await containerUrl('entra-expired');
    const signIn = azurite.signIn({ expired: true });
    const token = (await signIn.getToken('https://storage.azure.com/.default'))?.token as string;
    const storage = openJobStorage(url, { credential: signIn, ca: azurite.ca });
    const refused = await storage.check?.().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isUserError(refused)).toBe(true);
    const e = refused as Error & { exitCode: number; hint?: string };
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(
      /job storage .*entra-expired \(a container URL without a SAS: Entra ID sign-in\): storage account devstoreaccount1 did not accept the sign-in token \(403 AuthenticationFailed\)\. Checked before the run: nothing was changed\./,
    );
    expect(e.hint).toMatch(/az login/);
    expect(`${e.message} ${e.hint}`).not.toContain(token);
    expect(await azurite.blobs('entra-expired')).toEqual([]);
  });

  it('a container the account does not have is bad input before any change, naming the container to create', async () => {
    const storage = openJobStorage(`${azurite.blobUrl}/entra-missing`, {
      credential: azurite.signIn(),
      ca: azurite.ca,
    });
    const refused = await storage.check?.().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isUserError(refused)).toBe(true);
    expect((refused as Error).message).toMatch(
      /storage account devstoreaccount1 has no container entra-missing \(404 ContainerNotFound\)\. Checked before the run: nothing was changed\./,
    );
  });
});
