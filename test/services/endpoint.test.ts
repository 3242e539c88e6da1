import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvisioningClient, createRegistry } from '../../src/services/azure/clients.js';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';

// The seam must send the real SDKs' own requests to a local server, keeping the service host name.
describe('emulator endpoint seam', () => {
  const seen: { method?: string; url?: string; host?: string; auth?: string }[] = [];
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({
        method: req.method,
        url: req.url,
        host: req.headers.host,
        auth: req.headers.authorization,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url?.startsWith('/devices'))
        res.end(JSON.stringify({ deviceId: 'd1', status: 'disabled', etag: 'AAA' }));
      else res.end(JSON.stringify({ registrationId: 'r1', provisioningStatus: 'enabled', etag: 'e1' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('routes DPS and hub requests with their real host names and SAS auth', async () => {
    const endpoint = parseEndpoint(`http://127.0.0.1:${port}`);
    const dps = createProvisioningClient(
      {
        kind: 'connectionString',
        host: 'dps1.azure-devices-provisioning.net',
        connectionString:
          'HostName=dps1.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=a2V5a2V5a2V5',
      },
      endpoint,
    );
    const enrollment = await dps.getIndividualEnrollment('r1');
    expect(enrollment.responseBody.etag).toBe('e1');
    const registry = createRegistry(
      {
        kind: 'connectionString',
        host: 'hub-a.azure-devices.net',
        connectionString:
          'HostName=hub-a.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=a2V5a2V5a2V5',
      },
      endpoint,
    );
    const device = await registry.get('d1');
    expect(device.responseBody.status).toBe('disabled');
    expect(seen[0]).toMatchObject({ method: 'GET', host: `dps1.azure-devices-provisioning.net:${port}` });
    expect(seen[0].url).toMatch(/^\/enrollments\/r1\?api-version=2021-10-01/);
    expect(seen[0].auth).toMatch(/^SharedAccessSignature sr=dps1\.azure-devices-provisioning\.net/);
    expect(seen[1]).toMatchObject({ method: 'GET', host: `hub-a.azure-devices.net:${port}` });
    expect(seen[1].auth).toMatch(/^SharedAccessSignature sr=hub-a\.azure-devices\.net/);
  });

  it('rejects endpoints that are not http(s) URLs with a port', () => {
    expect(() => parseEndpoint('localhost')).toThrow(/not a URL/);
    expect(() => parseEndpoint('ftp://127.0.0.1:21')).toThrow(/http:\/\/ or https:\/\//);
    expect(() => parseEndpoint('http://127.0.0.1')).toThrow(/explicit port/);
  });
});
