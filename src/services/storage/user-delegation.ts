/**
 * Job storage signed in with Entra ID: the tool's own blob calls carry its token; the hub's import/export
 * jobs, which cannot use the tool's sign-in, are given a container SAS signed with a user delegation key
 * the account hands out to the signed-in identity (BlobServiceClient.getUserDelegationKey). The SAS is a
 * secret: registered at once, never shown, logged or journaled.
 *
 * Azure lets such a SAS do only what its signer may do, so the identity needs "Storage Blob Data
 * Contributor" on the account or the container (which includes generating the delegation key).
 */
import {
  type BlobServiceClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  SASProtocol,
  type StoragePipelineOptions,
  type UserDelegationKey,
} from '@azure/storage-blob';
import { UserError } from '../../core/errors.js';
import { registerSecret } from '../secrets.js';
import { JobStorageError, type JobStorageSpec } from './job-storage-spec.js';

const HOUR = 3_600_000;
/** How long a delegation key, and the SAS made with it, lives. */
export const KEY_LIFETIME_MS = 12 * HOUR;
/**
 * What must be left of it when a job step starts (the step's jobs get the SAS then): a key with less is
 * replaced, so every job step (a resume's too) has at least this long to finish its jobs.
 */
export const KEY_RENEW_BELOW_MS = 8 * HOUR;
/** Start a little in the past: the account's clock may be behind ours. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** What the hub's jobs do with the container: read, add, create, write, delete, list. */
export const SAS_PERMISSIONS = 'racwdl';
/**
 * The SAS format version: 2025-07-05, which Azure Storage accepts and Azurite 3.35 (the local proof)
 * verifies; the SDK's default (2026-04-06) signs two more fields that Azurite 3.35 does not know yet.
 */
const SAS_VERSION = '2025-07-05';
export const STORAGE_ROLE = 'Storage Blob Data Contributor';

type EntraSpec = Extract<JobStorageSpec, { kind: 'entra' }>;

/** Client options trusting an extra CA certificate (PEM), e.g. a local storage emulator's; none: the defaults. */
export function storageClientOptions(ca?: string): StoragePipelineOptions {
  // The storage client hands its options to the core pipeline, whose `tlsOptions` sets the CA to trust.
  const options: StoragePipelineOptions & { tlsOptions?: { ca: string } } = ca ? { tlsOptions: { ca } } : {};
  return options;
}

/** The delegation key of this process and the container SAS made with it, renewed when running low. */
export class UserDelegation {
  private key?: UserDelegationKey;
  private sasUrl?: string;

  constructor(
    private readonly service: BlobServiceClient,
    private readonly spec: EntraSpec,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Asks the account for a key (and makes the SAS) unless the one held lasts long enough. */
  async ensure(): Promise<void> {
    // Whole seconds: the SAS carries the key's times to the second, as the key was asked for.
    const now = Math.floor(this.now().getTime() / 1000) * 1000;
    if (this.key && this.key.signedExpiresOn.getTime() - now >= KEY_RENEW_BELOW_MS) return;
    const startsOn = new Date(now - CLOCK_SKEW_MS);
    const key = await this.service.getUserDelegationKey(startsOn, new Date(now + KEY_LIFETIME_MS));
    registerSecret(key.value);
    const sas = generateBlobSASQueryParameters(
      {
        containerName: this.spec.container,
        permissions: ContainerSASPermissions.parse(SAS_PERMISSIONS),
        version: SAS_VERSION,
        protocol: SASProtocol.Https,
        startsOn,
        expiresOn: key.signedExpiresOn,
      },
      key,
      this.spec.account,
    );
    registerSecret(sas.signature);
    this.key = key;
    this.sasUrl = `${this.spec.display}?${sas.toString()}`;
  }

  /** The container URL with the SAS (a secret); `ensure` first. */
  get url(): string {
    if (!this.sasUrl) {
      throw new JobStorageError(
        `no user delegation SAS for ${this.spec.display} yet: the container was not taken`,
      );
    }
    return this.sasUrl;
  }

  /** When the SAS the jobs get now stops working. */
  get expiresOn(): Date | undefined {
    return this.key?.signedExpiresOn;
  }
}

const AUTHENTICATION_CODES = new Set(['AuthenticationFailed', 'InvalidAuthenticationInfo']);
const SIGN_IN_ERRORS = new Set([
  'CredentialUnavailableError',
  'AggregateAuthenticationError',
  'AuthenticationError',
]);

/**
 * What a refusal while proving the container means to the person running the tool: no sign-in, a token
 * the account does not accept, a missing role (named, with how to grant it) or no such container.
 * `doing`: what was asked. Undefined: not a refusal (the caller reports it as it is).
 */
export function storageRefusal(e: unknown, spec: EntraSpec, doing: string): UserError | undefined {
  const err = e as { name?: string; statusCode?: number; code?: string };
  const given = `job storage ${spec.display} (${spec.form === 'name' ? 'ACCOUNT/CONTAINER' : 'a container URL without a SAS'}: Entra ID sign-in)`;
  const nothing = 'Checked before the run: nothing was changed.';
  if (err?.name && SIGN_IN_ERRORS.has(err.name)) {
    return new UserError(`${given}: no Entra ID sign-in is available. ${nothing}`, {
      hint: 'sign in with `az login` (or a managed identity, or AZURE_* variables), or give the container URL with a SAS',
    });
  }
  const status = err?.statusCode;
  if (status === 401 || (status === 403 && AUTHENTICATION_CODES.has(err.code ?? ''))) {
    return new UserError(
      `${given}: storage account ${spec.account} did not accept the sign-in token (${[status, err.code].filter(Boolean).join(' ')}). ${nothing}`,
      { hint: "sign in again (`az login`) with an identity of the storage account's tenant" },
    );
  }
  if (status === 403) {
    return new UserError(
      `${given}: the signed-in identity may not ${doing} in storage account ${spec.account} ` +
        `(403 ${err.code ?? 'Forbidden'}): it needs the "${STORAGE_ROLE}" role on the account or the container ` +
        `(it includes generating a user delegation key). ${nothing}`,
      {
        hint: `az role assignment create --role "${STORAGE_ROLE}" --assignee <your sign-in> --scope <the storage account's resource ID>`,
      },
    );
  }
  if (status === 404) {
    return new UserError(
      `${given}: storage account ${spec.account} has no container ${spec.container} (404 ${err.code ?? 'NotFound'}). ${nothing}`,
      {
        hint: `create it: az storage container create --name ${spec.container} --account-name ${spec.account} --auth-mode login`,
      },
    );
  }
  return undefined;
}
