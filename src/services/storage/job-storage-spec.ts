/**
 * What a `--job-storage` value means. Three forms:
 * - a container URL with a SAS (`https://ACCOUNT.blob.core.windows.net/CONTAINER?sv=...&sig=...`): used as
 *   given, by the tool and by the hub's jobs;
 * - a container URL without a SAS (`https://ACCOUNT.blob.core.windows.net/CONTAINER`), or
 * - `ACCOUNT/CONTAINER`: Entra ID sign-in. The tool's own blob calls carry its token; the hub's jobs get a
 *   user delegation SAS the tool makes (see user-delegation.ts).
 * Messages name the form given and what to do; they show a URL only without its query (the SAS).
 */
import { printable } from '../../core/text.js';

export class JobStorageError extends Error {}

export type JobStorageSpec =
  | { kind: 'sas'; url: string; display: string }
  | {
      kind: 'entra';
      /** Which form was given (messages say so). */
      form: 'url' | 'name';
      account: string;
      container: string;
      /** The blob service's URL (Azurite's carries the account in its path). */
      serviceUrl: string;
      /** The container's URL, without any query: what messages and the journal may name. */
      display: string;
    };

const ACCOUNT = /^[a-z0-9]{3,24}$/;
const CONTAINER = /^(?=.{3,63}$)[a-z0-9](?:-?[a-z0-9])*$/;
const FORMS =
  'a blob container URL with a SAS (https://ACCOUNT.blob.core.windows.net/CONTAINER?sv=...&sig=...), ' +
  'the container URL alone or ACCOUNT/CONTAINER (signed in with Entra ID)';

/** `ACCOUNT/CONTAINER`: checked against Azure's naming rules, echoed (it holds no secret). */
function parseName(raw: string): JobStorageSpec {
  const [account, container] = raw.split('/');
  const given = `--job-storage ${printable(raw)} (ACCOUNT/CONTAINER, Entra ID sign-in)`;
  if (!ACCOUNT.test(account)) {
    throw new JobStorageError(
      `${given}: "${printable(account)}" is not a storage account name (3 to 24 lower-case letters and digits)`,
    );
  }
  if (!CONTAINER.test(container)) {
    throw new JobStorageError(
      `${given}: "${printable(container)}" is not a container name ` +
        '(3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit)',
    );
  }
  const serviceUrl = `https://${account}.blob.core.windows.net`;
  return {
    kind: 'entra',
    form: 'name',
    account,
    container,
    serviceUrl,
    display: `${serviceUrl}/${container}`,
  };
}

/** The account and container a URL names: an `ACCOUNT.blob...` host and one path part, or Azurite's `HOST/ACCOUNT/CONTAINER`. */
function containerOf(u: URL, display: string): { account?: string; container: string; service: string } {
  const parts = u.pathname.split('/').filter(Boolean);
  const notOne = () =>
    new JobStorageError(
      `--job-storage ${display} does not name one container: give the container's URL, not a blob's or the account's`,
    );
  if (u.hostname.includes('.blob.')) {
    if (parts.length !== 1) throw notOne();
    return { account: u.hostname.split('.')[0], container: parts[0], service: `${u.protocol}//${u.host}` };
  }
  if (parts.length === 2) {
    return { account: parts[0], container: parts[1], service: `${u.protocol}//${u.host}/${parts[0]}` };
  }
  // A custom domain names the container alone (with a SAS only: a user delegation SAS needs the account).
  if (parts.length === 1) return { container: parts[0], service: `${u.protocol}//${u.host}` };
  throw notOne();
}

/** Parses `--job-storage` (or its variable, or the config file's). Throws JobStorageError with what to do. */
export function parseJobStorage(raw: string): JobStorageSpec {
  const value = raw.trim();
  if (!value.includes('://') && /^[^/?=&\s]+\/[^/?=&\s]+$/.test(value)) return parseName(value);
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new JobStorageError(`--job-storage is not a URL nor ACCOUNT/CONTAINER: give ${FORMS}`);
  }
  const display = `${u.protocol}//${u.host}${u.pathname}`;
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new JobStorageError(`--job-storage ${display} is not an http(s) URL: give ${FORMS}`);
  }
  const { account, container, service } = containerOf(u, display);
  if (u.searchParams.get('sig')) return { kind: 'sas', url: value, display };
  if (u.search !== '') {
    throw new JobStorageError(
      `--job-storage ${display} carries no SAS: give the container URL with a SAS allowing read, write, list ` +
        'and delete, or the container URL without a query (?...) to sign in with Entra ID',
    );
  }
  if (u.protocol !== 'https:') {
    throw new JobStorageError(
      `--job-storage ${display} is a container URL without a SAS, which means Entra ID sign-in: ` +
        'that needs https:// (a token is never sent over plain HTTP); give the https URL, or a SAS',
    );
  }
  if (!account) {
    throw new JobStorageError(
      `--job-storage ${display} is a container URL without a SAS on a custom domain: Entra ID sign-in needs ` +
        'the account, so give https://ACCOUNT.blob.core.windows.net/CONTAINER or ACCOUNT/CONTAINER',
    );
  }
  return { kind: 'entra', form: 'url', account, container, serviceUrl: service, display };
}
