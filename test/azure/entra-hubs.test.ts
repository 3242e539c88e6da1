/**
 * az login is enough: with the DPS given as a host name (Entra ID), the hubs its registration records
 * name are signed in with the same credential, without a --hub per hub (a --hub still wins for its
 * host). A refused sign-in names the data-plane role to assign, and nothing changes. The emulator
 * accepts the injected credential's bearer token; the SDK clients and the session are the real ones.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isServiceError } from '../../src/core/errors.js';
import type { Actions } from '../../src/core/selection.js';
import { DPS_TOKEN_SCOPE } from '../../src/services/azure/clients.js';
import { buildPorts, resolveTarget } from '../../src/services/azure/target.js';
import { type EmulatorHandle, startEmulator } from '../../src/services/emulator/index.js';
import { createBackend, type SessionBackend } from '../../src/services/session/create-backend.js';
import { DeprovisionSession } from '../../src/services/session/deprovision-session.js';

const TOKEN = 'entra-token-for-tests';
const GROUP = 'smart-meters-eu';
const TEMPORARY: Actions = {
  disenroll: 'disable',
  deregister: 'disable',
  deleteRegistrations: false,
  deleteGroup: false,
};

/** A credential answering `token`, or per scope (DPS, hubs). */
const credential = (token: string | ((scope: string) => string)): TokenCredential => ({
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes[0] : scopes;
    return {
      token: typeof token === 'string' ? token : token(scope),
      expiresOnTimestamp: Date.now() + 3_600_000,
    };
  },
});

let emulator: EmulatorHandle;
let stateHome: string;

beforeAll(async () => {
  emulator = await startEmulator({ seed: 'demo', throttle: false, timeScale: 600, bearerTokens: [TOKEN] });
  stateHome = await mkdtemp(join(tmpdir(), 'entra-hubs-'));
});

afterAll(async () => {
  await emulator?.stop();
  await rm(stateHome, { recursive: true, force: true });
});

/** The backend the CLI builds for `--dps HOST [--hub ...]`, with the injected credential. */
function backendFor(cred: TokenCredential, hubs: string[] = []): SessionBackend {
  const target = resolveTarget({
    dps: emulator.dps.host,
    hubs,
    endpoint: emulator.url,
    env: {},
    configPath: false,
    credential: cred,
  });
  const ports = buildPorts(target, { timeoutMs: 10_000 });
  return createBackend({
    target: target.describe(),
    dps: ports.dps,
    hubs: ports.hubs,
    env: { XDG_STATE_HOME: stateHome },
    limits: { timeScale: 600 },
  });
}

const hubStatuses = (): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const hub of emulator.store.hubs.values()) {
    for (const [id, d] of hub.devices) if (id.startsWith('meter-eu-')) out[`${hub.host}/${id}`] = d.status;
  }
  return out;
};

async function settle(session: DeprovisionSession) {
  session.send({ type: 'CONFIRM' });
  const ended = await session.when('settled', 'interrupted', 'failed', 'startFailed');
  expect(ended.state).toBe('settled');
  return ended.context.summary;
}

describe('only the DPS host given (Entra ID)', () => {
  it('plans, runs and restores a group spread over three hubs, signing each hub in with the same credential', async () => {
    const before = hubStatuses();
    const meterHubs = new Set(Object.keys(before).map((k) => k.split('/')[0]));
    expect(meterHubs.size).toBe(3);
    const backend = backendFor(credential(TOKEN));
    try {
      const session = new DeprovisionSession(backend);
      session.send({ type: 'PLAN', selection: { kind: 'group', groupId: GROUP }, actions: TEMPORARY });
      const planned = await session.rest();
      expect(planned.state).toBe('planned');
      const plan = planned.context.plan;
      expect(plan?.warnings.filter((w) => w.code === 'hub-without-credentials')).toEqual([]);
      const hubsActedOn = new Set(
        plan?.steps.flatMap((s) => (s.op.kind === 'disableHubDevices' ? [s.op.hub.toLowerCase()] : [])),
      );
      expect(hubsActedOn).toEqual(meterHubs);

      const summary = await settle(session);
      expect(summary?.state).toBe('completed');
      expect(new Set(Object.values(hubStatuses()))).toEqual(new Set(['disabled']));
      expect(emulator.store.dps.groups.get(GROUP)?.provisioningStatus).toBe('disabled');

      // The run's journal names the three hubs: a restore (here, a fresh session) finds them again.
      const restoring = new DeprovisionSession(backendFor(credential(TOKEN)));
      const journal = summary?.journalPath as string;
      restoring.send({ type: 'PLAN_RESTORE', journalPath: journal });
      expect((await restoring.rest()).state).toBe('planned');
      expect((await settle(restoring))?.state).toBe('completed');
      // Back as they were (the seed has a disabled meter: it stays disabled).
      expect(hubStatuses()).toEqual(before);
      expect(emulator.store.dps.groups.get(GROUP)?.provisioningStatus).toBe('enabled');
    } finally {
      await backend.close();
    }
  });

  it('a --hub connection string still wins for its host', async () => {
    const [first] = emulator.hubs;
    const target = resolveTarget({
      dps: emulator.dps.host,
      hubs: [first.connectionString],
      endpoint: emulator.url,
      env: {},
      configPath: false,
      credential: credential(TOKEN),
    });
    expect(target.hubs.get(first.host)?.kind).toBe('connectionString');
    const ports = buildPorts(target);
    expect(ports.hubs.hosts()).toEqual([first.host]);
    // Another hub is signed in with the DPS's credential when first asked for.
    const other = emulator.hubs[1].host;
    expect(ports.hubs.get(other)).toBeDefined();
    expect(ports.hubs.hosts()).toEqual([first.host, other]);
  });

  it('a hub refusing the sign-in stops the plan, naming the IoT Hub role to assign; nothing changed', async () => {
    const before = JSON.stringify(hubStatuses());
    // DPS accepts the token; the hubs do not (the account has no IoT Hub role).
    const backend = backendFor(
      credential((scope) => (scope === DPS_TOKEN_SCOPE ? TOKEN : 'not-a-hub-token')),
    );
    try {
      const session = new DeprovisionSession(backend);
      session.send({ type: 'PLAN', selection: { kind: 'group', groupId: GROUP }, actions: TEMPORARY });
      const view = await session.rest();
      expect(view.state).not.toBe('planned');
      const failure = view.context.failure;
      expect(isServiceError(failure)).toBe(true);
      expect((failure as Error).message).toMatch(/IoT Hub (Data Reader|Registry Contributor)/);
      expect((failure as Error).message).toMatch(/az login/);
      expect((failure as Error).message).not.toContain('not-a-hub-token');
    } finally {
      await backend.close();
    }
    expect(JSON.stringify(hubStatuses())).toBe(before);
  });

  it('a DPS refusing the sign-in names the Device Provisioning Service role', async () => {
    const backend = backendFor(credential('unknown-token'));
    try {
      const session = new DeprovisionSession(backend);
      session.send({ type: 'PLAN', selection: { kind: 'group', groupId: GROUP }, actions: TEMPORARY });
      const view = await session.rest();
      expect((view.context.failure as Error).message).toMatch(
        /Device Provisioning Service Data (Reader|Contributor)/,
      );
    } finally {
      await backend.close();
    }
  });
});
