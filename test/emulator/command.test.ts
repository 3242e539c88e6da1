import { UserError } from '../../src/core/errors.js';
import { describe, expect, it } from 'vitest';
import { parseEmulatorFlags, parseFaultSpec, runEmulatorCommand } from '../../src/commands/emulator.js';
import { createRegistry } from '../../src/services/azure/clients.js';
import { parseEndpoint } from '../../src/services/azure/endpoint.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } },
    out,
    err,
  };
}

async function waitFor<T>(read: () => T | undefined): Promise<T> {
  for (;;) {
    const v = read();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('iot-deprovision emulator', () => {
  it('prints one JSON line (endpoint, connection strings), serves them, stops on abort', async () => {
    const { io, out, err } = capture();
    const abort = new AbortController();
    const exit = runEmulatorCommand(
      { ...parseEmulatorFlags({ json: true, seed: 'demo' }), signal: abort.signal },
      io,
    );
    const text = await waitFor(() => (out.length ? out.join('') : undefined));
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n')).toHaveLength(1);
    const info = JSON.parse(text);
    expect(info.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.dps).toMatchObject({
      host: 'sandbox-dps.azure-devices-provisioning.net',
      idScope: expect.any(String),
    });
    expect(info.hubs.map((h: any) => h.name)).toEqual(['hub-eu', 'hub-us', 'hub-asia']);

    const hub = info.hubs[1];
    const registry = createRegistry(
      { kind: 'connectionString', host: hub.host, connectionString: hub.connectionString },
      parseEndpoint(info.endpoint),
    );
    const stats = (await registry.getRegistryStatistics()).responseBody as any;
    expect(stats.totalDeviceCount).toBeGreaterThan(10);

    abort.abort();
    expect(await exit).toBe(0);
    expect(err).toEqual([]);
    await expect(fetch(`${info.endpoint}/_emulator/health`)).rejects.toThrow();
  });

  it('prints a readable summary without --json', async () => {
    const { io, out } = capture();
    const abort = new AbortController();
    const exit = runEmulatorCommand({ signal: abort.signal }, io);
    const text = await waitFor(() => (out.length ? out.join('') : undefined));
    expect(text).toMatch(/^IoT emulator listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(text).toMatch(/DPS {2}sandbox-dps\.azure-devices-provisioning\.net {2}ID scope 0ne[0-9A-F]{8}/);
    expect(text).toContain(
      'HostName=hub-asia.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=',
    );
    abort.abort();
    expect(await exit).toBe(0);
  });

  it('validates flags with messages that say what to give', () => {
    expect(
      parseEmulatorFlags({ port: '8443', seed: '500', tier: 'S3', units: '2', timeScale: '60' }),
    ).toEqual({
      port: 8443,
      seed: 500,
      tier: 'S3',
      units: 2,
      timeScale: 60,
    });
    expect(() => parseEmulatorFlags({ port: 'abc' })).toThrow(/--port expects a whole number/);
    expect(() => parseEmulatorFlags({ port: '70000' })).toThrow(/--port must be from 0 to 65535/);
    expect(() => parseEmulatorFlags({ seed: 'lots' })).toThrow(/--seed expects demo or a number/);
    expect(() => parseEmulatorFlags({ tier: 'S9' })).toThrow(/--tier expects S1, S2, S3, B1, B2, B3 or F1/);
    // The same tiers as --hub-tier: a basic hub is emulated with the throttles of its standard size.
    expect(parseEmulatorFlags({ tier: 'b3' }).tier).toBe('S3');
    expect(() => parseEmulatorFlags({ timeScale: '-1' })).toThrow(/--time-scale expects a positive number/);
    // Commander refuses an unknown flag first; the schema is strict too.
    expect(() => parseEmulatorFlags({ colour: 'red' } as never)).toThrow(/colour/);
    const thrown = (() => {
      try {
        parseEmulatorFlags({ units: '0' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(thrown).toBeInstanceOf(UserError);
    expect(thrown).toMatchObject({ exitCode: 2 });
    expect(thrown?.message).toMatch(/--units must be from 1 to 200/);
  });

  it('parses the --faults SPEC format', () => {
    expect(parseFaultSpec('5xx=0.1,reset=0.05,hang=0.01,latency=20,seed=7,only=dps')).toEqual({
      error5xxRate: 0.1,
      resetRate: 0.05,
      hangRate: 0.01,
      latencyMs: 20,
      seed: 7,
      only: ['dps'],
    });
    expect(parseFaultSpec('reset-after=0.5,only=dps+hub')).toEqual({
      resetAfterRate: 0.5,
      only: ['dps', 'hub'],
    });
    expect(() => parseFaultSpec('5xx=2')).toThrow(/expected a rate from 0 to 1/);
    expect(() => parseFaultSpec('boom=1')).toThrow(/unknown key "boom"/);
    expect(() => parseFaultSpec('5xx=0.6,reset=0.6')).toThrow(/add up to more than 1/);
    expect(() => parseFaultSpec('latency')).toThrow(/not key=value/);
  });

  it('refuses a state file in use with exit code 2 and a clear message', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const state = join(mkdtempSync(join(tmpdir(), 'emulator-cmd-')), 'state.json');
    const first = capture();
    const abort = new AbortController();
    const running = runEmulatorCommand({ state, json: true, signal: abort.signal }, first.io);
    await waitFor(() => (first.out.length ? true : undefined));
    const second = capture();
    const refused = await runEmulatorCommand({ state, json: true }, second.io).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UserError);
    expect(refused).toMatchObject({ exitCode: 2, code: 'stateLocked' });
    expect((refused as Error).message).toMatch(/in use by another emulator .*choose another --state file/);
    abort.abort();
    expect(await running).toBe(0);
  });
});
