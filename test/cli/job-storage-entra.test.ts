/**
 * `--job-storage` given as a container URL WITHOUT a SAS, through the compiled program: "az login alone"
 * is emulated by an `az` on PATH answering `az account get-access-token` (DefaultAzureCredential's Azure
 * CLI credential runs it), with a token real Azurite (HTTPS, `--oauth basic`) accepts. The program asks
 * Azurite for a user delegation key, gives the hub's jobs a SAS made with it, and the emulator's hub runs
 * its export and import jobs through that SAS. A refused or missing sign-in is bad input (exit 2) before
 * any change. No token or SAS in any output or journal.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzuriteHandle, startAzurite } from '../support/azurite.js';
import { type CliFixture, deviceOn, startCliFixture, stateOf } from './fixture.js';
import { buildOneHubFleet } from './hub-jobs-fleet.js';

const GROUP = 'entra-fleet';
const DEVICES = 40;
let f: CliFixture;
let azurite: AzuriteHandle;
let container: string;
let token: string;
let expiredToken: string;
let ids: string[];

/** A folder holding an `az` that prints `stdout` (or fails with `stderr`), as the Azure CLI would. */
function fakeAz(name: string, answer: { stdout?: string; stderr?: string }): string {
  const dir = join(f.stateHome, 'bin', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'answer.out'), answer.stdout ?? '');
  writeFileSync(join(dir, 'answer.err'), answer.stderr ?? '');
  const fail = answer.stderr ? 'exit 1' : 'exit 0';
  const script = `#!/bin/sh\ncat "${dir}/answer.out"\ncat "${dir}/answer.err" >&2\n${fail}\n`;
  writeFileSync(join(dir, 'az'), script);
  chmodSync(join(dir, 'az'), 0o755);
  return dir;
}

const cliToken = (accessToken: string, expiresOnMs: number): string =>
  JSON.stringify({
    accessToken,
    expiresOn: new Date(expiresOnMs).toISOString().replace('T', ' ').replace('Z', ''),
    expires_on: Math.floor(expiresOnMs / 1000),
    tokenType: 'Bearer',
  });

/** The environment of a program signed in with `az login` alone, trusting Azurite's certificate. */
function signedIn(azDir: string): Record<string, string> {
  const caFile = join(f.stateHome, 'azurite-ca.pem');
  writeFileSync(caFile, azurite.ca as string);
  return {
    PATH: `${azDir}:${process.env.PATH}`,
    // DefaultAzureCredential's own switch: only its Azure CLI credential (no managed identity probe).
    AZURE_TOKEN_CREDENTIALS: 'AzureCliCredential',
    NODE_EXTRA_CA_CERTS: caFile,
  };
}

beforeAll(async () => {
  azurite = await startAzurite({ oauth: true });
  await azurite.container('cli-entra');
  container = `${azurite.blobUrl}/cli-entra`;
  token = (await azurite.signIn().getToken('https://storage.azure.com/.default'))?.token as string;
  expiredToken = (await azurite.signIn({ expired: true }).getToken('https://storage.azure.com/.default'))
    ?.token as string;
  f = await startCliFixture(
    { tier: 'S1', units: 1, timeScale: 60, storageCa: azurite.ca },
    { extraSecrets: [token, expiredToken] },
  );
  ids = buildOneHubFleet(f.emulator, GROUP, DEVICES, 'hub-eu');
}, 60_000);

afterAll(async () => {
  await f?.close();
  await azurite?.stop();
});

const hubEu = () => f.emulator.hubs.find((h) => h.name === 'hub-eu')?.host as string;
const runArgs = [
  'run',
  '--group',
  GROUP,
  '--disenroll',
  'disable',
  '--deregister',
  'disable',
  '--hub-path',
  'jobs',
  '--yes',
  // The emulator runs 60x faster: the client paces itself to it as an S1 hub of 60 units.
  ...['--hub-tier', 'S1', '--hub-units', '60'],
  ...['hub-eu', 'hub-us', 'hub-asia'].flatMap((h) => ['--skip-hub-lookup', h]),
];
const journals = (): string[] => {
  try {
    return readdirSync(join(f.stateHome, 'iot-deprovision', 'runs'));
  } catch {
    return [];
  }
};

// The refusals first, on the untouched fleet; then the run.
describe('--job-storage CONTAINER_URL without a SAS: Entra ID sign-in', { shuffle: false }, () => {
  it('no az login: exit 2 before any change, saying to sign in', async () => {
    const before = stateOf(f.emulator);
    const az = fakeAz('logged-out', { stderr: "ERROR: Please run 'az login' to setup account." });
    const r = await f.cli([...runArgs, '--job-storage', container], { env: signedIn(az) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /job storage .*cli-entra \(a container URL without a SAS: Entra ID sign-in\): no Entra ID sign-in is available\. Checked before the run: nothing was changed\. \(sign in with `az login`/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(stateOf(f.emulator)).toBe(before);
    expect(journals()).toEqual([]);
  });

  it('a token the storage account refuses: exit 2 before any change, saying to sign in again', async () => {
    const before = stateOf(f.emulator);
    const az = fakeAz('expired', { stdout: cliToken(expiredToken, Date.now() + 3_600_000) });
    const r = await f.cli([...runArgs, '--job-storage', container], { env: signedIn(az) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/did not accept the sign-in token \(403 AuthenticationFailed\)/);
    expect(r.stderr).toMatch(/sign in again \(`az login`\)/);
    expect(stateOf(f.emulator)).toBe(before);
    expect(journals()).toEqual([]);
  });

  it("az login alone: the group is disabled through the hub's export and import jobs, no SAS or token anywhere", async () => {
    const az = fakeAz('signed-in', { stdout: cliToken(token, Date.now() + 3_600_000) });
    f.emulator.resetStats();
    const r = await f.cli([...runArgs, '--job-storage', container], { env: signedIn(az) });
    expect(r.stderr).not.toMatch(/iot-deprovision:/);
    expect(r.code).toBe(0);
    expect(ids.every((id) => deviceOn(f.emulator, hubEu(), id)?.status === 'disabled')).toBe(true);
    // One export and one import job on the hub, and the verify's export (no keys) reading it back; the
    // refusals before created none.
    expect(f.emulator.jobsCreated()).toEqual({ 'hub-eu': { export: 2, import: 1 } });
    const [journal] = journals();
    const text = readFileSync(join(f.stateHome, 'iot-deprovision', 'runs', journal), 'utf8');
    expect(text).toContain(container);
    for (const out of [r.stdout, r.stderr, text]) {
      expect(out).not.toMatch(/[?&]sig=|skoid=/);
      expect(out).not.toContain(token);
    }
    expect(await azurite.blobs('cli-entra')).toEqual([]);
  });
});
