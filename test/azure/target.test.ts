import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfigPath, loadConfigFile } from '../../src/services/azure/config.js';
import {
  buildPorts,
  hubsWithoutCredentials,
  NO_DPS_MESSAGE,
  resolveTarget,
} from '../../src/services/azure/target.js';
import { isUserError } from '../../src/core/errors.js';

const KEY_A = Buffer.from('key-a-0123456789').toString('base64');
const KEY_B = Buffer.from('key-b-0123456789').toString('base64');
const KEY_C = Buffer.from('key-c-0123456789').toString('base64');
const dpsCs = (host: string, key: string) =>
  `HostName=${host};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=${key}`;
const hubCs = (host: string, key: string) =>
  `HostName=${host};SharedAccessKeyName=iothubowner;SharedAccessKey=${key}`;

const dir = mkdtempSync(join(tmpdir(), 'iotdp-target-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${fileCount++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isUserError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a UserError');
}

const credential = { getToken: async () => ({ token: 'tok', expiresOnTimestamp: Date.now() + 3_600_000 }) };

describe('resolveTarget precedence', () => {
  const file = configFile({
    dps: dpsCs('file-dps.azure-devices-provisioning.net', KEY_C),
    hubs: [hubCs('hub-a.azure-devices.net', KEY_C), hubCs('hub-c.azure-devices.net', KEY_C)],
    endpoint: 'http://127.0.0.1:9003',
  });
  const env = {
    IOT_DPS_CONNECTION_STRING: dpsCs('env-dps.azure-devices-provisioning.net', KEY_B),
    IOTHUB_CONNECTION_STRING: hubCs('hub-a.azure-devices.net', KEY_B),
    IOT_DEPROVISION_ENDPOINT: 'http://127.0.0.1:9002',
  };

  it('flags win over the environment, the environment over the file; hubs merge by host', () => {
    const target = resolveTarget({
      dps: dpsCs('flag-dps.azure-devices-provisioning.net', KEY_A),
      hubs: [hubCs('HUB-B.azure-devices.net', KEY_A)],
      endpoint: 'http://127.0.0.1:9001',
      env,
      configPath: file,
    });
    expect(target.dps).toMatchObject({
      kind: 'connectionString',
      host: 'flag-dps.azure-devices-provisioning.net',
    });
    expect(target.endpoint?.url.port).toBe('9001');
    expect([...target.hubs.keys()]).toEqual([
      'hub-b.azure-devices.net',
      'hub-a.azure-devices.net',
      'hub-c.azure-devices.net',
    ]);
    const hubA = target.hubs.get('hub-a.azure-devices.net');
    expect(hubA?.kind === 'connectionString' && hubA.connectionString).toContain(KEY_B);
    const description = target.describe();
    expect(description.dpsSource).toBe('--dps');
    expect(description.hubs.map((h) => h.source)).toEqual([
      '--hub',
      'IOTHUB_CONNECTION_STRING',
      `config file ${file}: hubs`,
    ]);
  });

  it('takes the environment when no flag is given, then the file', () => {
    const fromEnv = resolveTarget({ env, configPath: file });
    expect(fromEnv.dps.host).toBe('env-dps.azure-devices-provisioning.net');
    expect(fromEnv.endpoint?.url.port).toBe('9002');
    const fromFile = resolveTarget({ env: {}, configPath: file });
    expect(fromFile.dps.host).toBe('file-dps.azure-devices-provisioning.net');
    expect(fromFile.endpoint?.url.port).toBe('9003');
    expect(fromFile.describe().dpsSource).toBe(`config file ${file}: dps`);
  });

  it('describes the target without any secret', () => {
    const target = resolveTarget({ env, configPath: file, kind: 'sandbox' });
    const text = JSON.stringify(target.describe());
    for (const key of [KEY_A, KEY_B, KEY_C]) expect(text).not.toContain(key);
    expect(text).not.toMatch(/SharedAccessKey/);
    expect(target.describe()).toMatchObject({
      kind: 'sandbox',
      dpsHost: 'env-dps.azure-devices-provisioning.net',
      dpsAuth: 'connection string',
      endpoint: 'http://127.0.0.1:9002',
    });
  });

  it('says how to configure a DPS when none is given', () => {
    expect(usageMessage(() => resolveTarget({ env: {}, configPath: false }))).toBe(NO_DPS_MESSAGE);
    expect(NO_DPS_MESSAGE).toBe(
      'no DPS configured: pass --dps or set IOT_DPS_CONNECTION_STRING (or run with --sandbox)',
    );
  });

  it('names the source of a malformed value and never repeats its key', () => {
    const bad = 'HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner';
    const message = usageMessage(() =>
      resolveTarget({
        dps: 'd.azure-devices-provisioning.net',
        env: { IOTHUB_CONNECTION_STRING: bad },
        credential,
      }),
    );
    expect(message).toBe('IOTHUB_CONNECTION_STRING: the connection string has no SharedAccessKey part');
    const badKey = `HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY_A}!`;
    const message2 = usageMessage(() =>
      resolveTarget({
        dps: dpsCs('d.azure-devices-provisioning.net', KEY_B),
        hubs: [badKey],
        configPath: false,
      }),
    );
    expect(message2).toMatch(/^--hub: .*not base64/);
    expect(message2).not.toContain(KEY_A);
  });

  it('refuses one hub given twice by the same source', () => {
    const message = usageMessage(() =>
      resolveTarget({
        dps: dpsCs('d.azure-devices-provisioning.net', KEY_A),
        hubs: [hubCs('h.azure-devices.net', KEY_A), hubCs('H.azure-devices.net', KEY_B)],
        configPath: false,
        env: {},
      }),
    );
    expect(message).toBe('--hub: hub h.azure-devices.net is given twice');
  });

  it('uses Entra ID for host names, with the injected credential', () => {
    const target = resolveTarget({
      dps: 'my-dps.azure-devices-provisioning.net',
      hubs: ['my-hub.azure-devices.net'],
      credential,
      env: {},
      configPath: false,
    });
    expect(target.dps).toMatchObject({ kind: 'tokenCredential', credential });
    expect(target.describe().hubs[0]).toMatchObject({
      auth: 'Entra ID (provided credential)',
      hasCredentials: true,
    });
  });

  it('uses DefaultAzureCredential for host names when nothing is injected', () => {
    const target = resolveTarget({
      dps: 'my-dps.azure-devices-provisioning.net',
      env: {},
      configPath: false,
    });
    expect(target.describe().dpsAuth).toBe('Entra ID (DefaultAzureCredential)');
    expect(typeof (target.dps.kind === 'tokenCredential' && target.dps.credential.getToken)).toBe('function');
  });

  it('does not send a real sign-in to an emulator endpoint', () => {
    const message = usageMessage(() =>
      resolveTarget({
        dps: 'my-dps.azure-devices-provisioning.net',
        endpoint: 'http://127.0.0.1:1234',
        configPath: false,
        env: {},
      }),
    );
    expect(message).toMatch(
      /^--dps: a host name means Entra ID sign-in, whose tokens are not sent to --endpoint/,
    );
  });

  it('reports a bad endpoint under the name it came from', () => {
    const message = usageMessage(() =>
      resolveTarget({
        dps: dpsCs('d.azure-devices-provisioning.net', KEY_A),
        env: { IOT_DEPROVISION_ENDPOINT: 'http://127.0.0.1' },
        configPath: false,
      }),
    );
    expect(message).toBe('IOT_DEPROVISION_ENDPOINT: "http://127.0.0.1" needs an explicit port');
  });
});

describe('config file', () => {
  it('defaults to $XDG_CONFIG_HOME, else ~/.config', () => {
    expect(defaultConfigPath({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/u' })).toBe(
      '/x/cfg/iot-deprovision/config.json',
    );
    expect(defaultConfigPath({ HOME: '/home/u' })).toBe('/home/u/.config/iot-deprovision/config.json');
    expect(defaultConfigPath({ XDG_CONFIG_HOME: 'relative', HOME: '/home/u' })).toBe(
      '/home/u/.config/iot-deprovision/config.json',
    );
  });

  it('is optional', () => {
    expect(loadConfigFile(join(dir, 'missing.json'))).toBeUndefined();
  });

  it('refuses invalid JSON without quoting it (it may hold a key)', () => {
    const path = configFile(`{"dps": "HostName=x;SharedAccessKey=${KEY_A}" oops}`);
    const message = usageMessage(() => loadConfigFile(path));
    expect(message).toBe(`config file ${path}: not valid JSON`);
  });

  it('names the field that is wrong, and unknown fields', () => {
    const wrongType = configFile({ hubs: 'hub-a' });
    expect(usageMessage(() => loadConfigFile(wrongType))).toMatch(/: hubs: .*expected array/);
    const typo = configFile({ hub: [hubCs('h.azure-devices.net', KEY_A)] });
    const message = usageMessage(() => loadConfigFile(typo));
    expect(message).toMatch(/Unrecognized key.*"hub"/);
    expect(message).not.toContain(KEY_A);
  });
});

describe('ports for a target', () => {
  it('builds one DPS adapter and a hub directory keyed by lower-case host', () => {
    const target = resolveTarget({
      dps: dpsCs('d.azure-devices-provisioning.net', KEY_A),
      hubs: [hubCs('Hub-A.azure-devices.net', KEY_A), 'hub-b.azure-devices.net'],
      credential,
      configPath: false,
      env: {},
    });
    const ports = buildPorts(target);
    expect(ports.dps.host).toBe('d.azure-devices-provisioning.net');
    expect(ports.hubs.hosts()).toEqual(['hub-a.azure-devices.net', 'hub-b.azure-devices.net']);
    expect(ports.hubs.get('HUB-A.AZURE-DEVICES.NET')?.host).toBe('hub-a.azure-devices.net');
    expect(ports.hubs.get('hub-x.azure-devices.net')).toBeUndefined();
    expect(
      hubsWithoutCredentials(['hub-a.azure-devices.net', 'Hub-X.azure-devices.net', undefined], target),
    ).toEqual(['hub-x.azure-devices.net']);
    expect(
      hubsWithoutCredentials(['hub-b.azure-devices.net', 'hub-z.azure-devices.net'], ports.hubs),
    ).toEqual(['hub-z.azure-devices.net']);
  });
});
