/**
 * What a --job-storage value means (a SAS URL, a container URL without a SAS, ACCOUNT/CONTAINER), and
 * what a refusal while proving Entra ID job storage tells the person running the tool.
 */
import { CredentialUnavailableError } from '@azure/identity';
import { RestError } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { JobStorageError, parseJobStorage } from '../../src/services/storage/job-storage-spec.js';
import { STORAGE_ROLE, storageRefusal } from '../../src/services/storage/user-delegation.js';

const SAS = 'sv=2025-07-05&sr=c&sp=rwdl&se=2030-01-01T00%3A00%3A00Z&sig=c2lnbmF0dXJlLW9mLXRoZS1zYXM%3D';

const refusal = (raw: string): string => {
  try {
    parseJobStorage(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(JobStorageError);
    return (e as Error).message;
  }
  throw new Error(`${raw} was accepted`);
};

describe('the three forms', () => {
  it('a container URL with a SAS is used as given, shown without its query', () => {
    const url = `https://contoso.blob.core.windows.net/jobs?${SAS}`;
    expect(parseJobStorage(url)).toEqual({
      kind: 'sas',
      url,
      display: 'https://contoso.blob.core.windows.net/jobs',
    });
  });

  it('a container URL without a SAS means Entra ID, with the account from the host', () => {
    expect(parseJobStorage('https://contoso.blob.core.windows.net/jobs')).toEqual({
      kind: 'entra',
      form: 'url',
      account: 'contoso',
      container: 'jobs',
      serviceUrl: 'https://contoso.blob.core.windows.net',
      display: 'https://contoso.blob.core.windows.net/jobs',
    });
  });

  it("Azurite's path-style URL names the account in its path", () => {
    expect(parseJobStorage('https://127.0.0.1:10000/devstoreaccount1/jobs')).toMatchObject({
      kind: 'entra',
      account: 'devstoreaccount1',
      container: 'jobs',
      serviceUrl: 'https://127.0.0.1:10000/devstoreaccount1',
    });
  });

  it('ACCOUNT/CONTAINER is the account on Azure public cloud', () => {
    expect(parseJobStorage(' contoso/iot-jobs ')).toEqual({
      kind: 'entra',
      form: 'name',
      account: 'contoso',
      container: 'iot-jobs',
      serviceUrl: 'https://contoso.blob.core.windows.net',
      display: 'https://contoso.blob.core.windows.net/iot-jobs',
    });
  });
});

describe('bad values say which form was given and what to do, never the SAS', () => {
  it.each([
    [
      'no URL and no ACCOUNT/CONTAINER',
      'not a url',
      /is not a URL nor ACCOUNT\/CONTAINER: give a blob container URL with a SAS .*ACCOUNT\/CONTAINER/,
    ],
    ['another scheme', 'ftp://contoso.blob.core.windows.net/jobs', /is not an http\(s\) URL/],
    ['an account URL', 'https://contoso.blob.core.windows.net', /does not name one container/],
    ["a blob's URL", 'https://contoso.blob.core.windows.net/jobs/devices.txt', /does not name one container/],
    [
      'a query without a signature',
      'https://contoso.blob.core.windows.net/jobs?sv=2025-07-05',
      /carries no SAS: .*or the container URL without a query \(\?\.\.\.\) to sign in with Entra ID/,
    ],
    [
      'Entra ID over plain HTTP',
      'http://127.0.0.1:10000/devstoreaccount1/jobs',
      /without a SAS, which means Entra ID sign-in: that needs https:\/\//,
    ],
    [
      'Entra ID on a custom domain',
      'https://files.contoso.com/jobs',
      /custom domain: Entra ID sign-in needs the account/,
    ],
    [
      'an account name with capitals',
      'Contoso/jobs',
      /\(ACCOUNT\/CONTAINER, Entra ID sign-in\): "Contoso" is not a storage account name \(3 to 24 lower-case letters and digits\)/,
    ],
    ['a container name with an underscore', 'contoso/iot_jobs', /"iot_jobs" is not a container name/],
    ['a container name with a double hyphen', 'contoso/iot--jobs', /"iot--jobs" is not a container name/],
  ])('%s', (_what, raw, message) => {
    expect(refusal(raw)).toMatch(message);
  });

  it('a SAS URL naming a blob is refused without its signature', () => {
    const m = refusal(`https://contoso.blob.core.windows.net/jobs/devices.txt?${SAS}`);
    expect(m).toContain('https://contoso.blob.core.windows.net/jobs/devices.txt');
    expect(m).not.toContain('sig=');
  });
});

describe('a refusal while proving Entra ID job storage', () => {
  const spec = parseJobStorage('contoso/iot-jobs');
  if (spec.kind !== 'entra') throw new Error('expected the Entra ID form');

  it('403 AuthorizationPermissionMismatch names the role to assign (exit 2)', () => {
    const e = new RestError(
      'This request is not authorized to perform this operation using this permission.',
      {
        statusCode: 403,
        code: 'AuthorizationPermissionMismatch',
      },
    );
    const u = storageRefusal(e, spec, 'write blobs');
    expect(u?.exitCode).toBe(2);
    expect(u?.message).toBe(
      'job storage https://contoso.blob.core.windows.net/iot-jobs (ACCOUNT/CONTAINER: Entra ID sign-in): ' +
        'the signed-in identity may not write blobs in storage account contoso (403 AuthorizationPermissionMismatch): ' +
        `it needs the "${STORAGE_ROLE}" role on the account or the container (it includes generating a user ` +
        'delegation key). Checked before the run: nothing was changed.',
    );
    expect(u?.hint).toMatch(/az role assignment create --role "Storage Blob Data Contributor"/);
  });

  it('no sign-in at all says to sign in', () => {
    const u = storageRefusal(
      new CredentialUnavailableError('Please run az login'),
      spec,
      'generate a user delegation key',
    );
    expect(u?.message).toMatch(/no Entra ID sign-in is available/);
    expect(u?.hint).toMatch(/az login/);
  });

  it('404: the container to create, and how', () => {
    const e = new RestError('The specified container does not exist.', {
      statusCode: 404,
      code: 'ContainerNotFound',
    });
    const u = storageRefusal(e, spec, 'write blobs');
    expect(u?.message).toMatch(/storage account contoso has no container iot-jobs \(404 ContainerNotFound\)/);
    expect(u?.hint).toBe(
      'create it: az storage container create --name iot-jobs --account-name contoso --auth-mode login',
    );
  });

  it('anything else is not a refusal (the caller says what failed)', () => {
    expect(
      storageRefusal(new RestError('busy', { statusCode: 503, code: 'ServerBusy' }), spec, 'write blobs'),
    ).toBeUndefined();
  });
});
