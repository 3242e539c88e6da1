import { describe, expect, it } from 'vitest';
import { parseConnectionString, parseHostName, parseServiceValue } from '../../src/services/azure/auth.js';
import { isUserError } from '../../src/core/errors.js';

const KEY = 'c2VjcmV0LWtleS1ub2JvZHktc2hvdWxkLXNlZQ==';
const HUB_CS = `HostName=Hub-A.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY}`;

/** Runs fn, expects a UserError, and returns its message. */
function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isUserError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('service connection strings', () => {
  it('parses a hub connection string into a canonical one with a lower-case host', () => {
    const parsed = parseConnectionString(HUB_CS, 'hub', '--hub');
    expect(parsed).toEqual({
      host: 'hub-a.azure-devices.net',
      keyName: 'iothubowner',
      connectionString: HUB_CS.replace('Hub-A', 'hub-a'),
    });
  });

  it('accepts part names in any case, spaces and a trailing semicolon', () => {
    const parsed = parseConnectionString(
      ' hostname=dps1.azure-devices-provisioning.net; sharedaccesskeyname=provisioningserviceowner;' +
        `sharedaccesskey=${KEY}; `,
      'dps',
      '--dps',
    );
    expect(parsed.host).toBe('dps1.azure-devices-provisioning.net');
    expect(parsed.connectionString).toContain(
      'SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=',
    );
  });

  const malformed: [string, string, RegExp][] = [
    [
      'no key',
      'HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner',
      /^--hub: .*no SharedAccessKey part$/,
    ],
    [
      'no key name',
      `HostName=h.azure-devices.net;SharedAccessKey=${KEY}`,
      /no SharedAccessKeyName part .*iothubowner/,
    ],
    ['no host', `SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY}`, /no HostName part/],
    [
      'key not base64',
      'HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=not*base64!',
      /not base64/,
    ],
    [
      'truncated key',
      'HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=abcde',
      /not base64/,
    ],
    [
      'device string',
      `HostName=h.azure-devices.net;DeviceId=d1;SharedAccessKey=${KEY}`,
      /device connection string/,
    ],
    [
      'part without =',
      `HostName=h.azure-devices.net;${KEY.slice(0, 20)};SharedAccessKey=${KEY}`,
      /without "name=value"/,
    ],
    [
      'key glued to host',
      `HostName=h.azure-devices.net SharedAccessKey=${KEY}`,
      /HostName is not a host name/,
    ],
    [
      'DPS string as hub',
      `HostName=d.azure-devices-provisioning.net;SharedAccessKeyName=p;SharedAccessKey=${KEY}`,
      /pass it with --dps/,
    ],
  ];
  for (const [name, value, pattern] of malformed) {
    it(`refuses a connection string with ${name}, without repeating its key`, () => {
      const message = usageMessage(() => parseConnectionString(value, 'hub', '--hub'));
      expect(message).toMatch(pattern);
      expect(message).not.toContain(KEY.slice(0, 12));
      expect(message).not.toContain('base64!');
    });
  }

  it('refuses a hub connection string given as the DPS', () => {
    expect(usageMessage(() => parseConnectionString(HUB_CS, 'dps', 'IOT_DPS_CONNECTION_STRING'))).toBe(
      'IOT_DPS_CONNECTION_STRING: hub-a.azure-devices.net is an IoT hub host; pass it with --hub',
    );
  });
});

describe('host names (Entra ID)', () => {
  it('lower-cases a host name', () => {
    expect(parseHostName('My-Hub.Azure-Devices.net', 'hub', '--hub')).toBe('my-hub.azure-devices.net');
  });

  it('refuses URLs and values that are neither a host nor a connection string, without echoing them', () => {
    expect(usageMessage(() => parseHostName('https://my-hub.azure-devices.net', 'hub', '--hub'))).toMatch(
      /not a URL/,
    );
    const bareKey = usageMessage(() => parseHostName('c2VjcmV0LWtleS1ub2JvZHk', 'hub', '--hub'));
    expect(bareKey).toMatch(
      /expected a connection string .* or a host name such as my-hub\.azure-devices\.net/,
    );
    expect(bareKey).not.toContain('c2VjcmV0');
  });

  it('uses the credential only for host names', () => {
    let made = 0;
    const credential = () => {
      made += 1;
      return { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    };
    const fromCs = parseServiceValue(HUB_CS, 'hub', '--hub', credential);
    expect(fromCs.auth.kind).toBe('connectionString');
    expect(made).toBe(0);
    const fromHost = parseServiceValue('hub-b.azure-devices.net', 'hub', '--hub', credential);
    expect(fromHost.auth).toMatchObject({ kind: 'tokenCredential', host: 'hub-b.azure-devices.net' });
    expect(fromHost.description.auth).toBe('Entra ID (DefaultAzureCredential)');
    expect(made).toBe(1);
  });

  it('treats any value with = or ; as a connection string (so a broken one is not taken for a host)', () => {
    expect(
      usageMessage(() => parseServiceValue(`SharedAccessKey=${KEY}`, 'hub', '--hub', () => ({}) as any)),
    ).toMatch(/no HostName part/);
  });
});
