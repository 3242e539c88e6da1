/**
 * `iot-deprovision emulator`: runs the local DPS + IoT Hub emulator until SIGINT/SIGTERM and prints
 * where it listens and the (emulator-only) connection strings to use with --endpoint.
 *
 * --faults SPEC is a comma-separated list of key=value:
 *   5xx=RATE  reset=RATE  reset-after=RATE  hang=RATE  throttle=RATE  retry-after=S  latency=MS  seed=N
 *   only=dps|hub|dps+hub   (throttle: a share of requests answered 429 with Retry-After: S seconds)
 * e.g. `5xx=0.1,reset=0.05,hang=0.01,latency=20,seed=7`. Rates are shares of requests, 0 to 1.
 */
import { z } from 'zod';
import { type EmulatorHandle, startEmulator } from '../services/emulator/index.js';
import type { FaultSpec, HubTier } from '../services/emulator/types.js';
import { HUB_TIER_LIST, standardTier, toHubTier } from '../core/hub-tier.js';
import { printable, safeJson } from '../core/text.js';
import { EXIT, isUserError, UserError } from '../core/errors.js';

export interface EmulatorCommandOptions {
  port?: number;
  state?: string;
  seed?: 'demo' | number;
  tier?: HubTier;
  units?: number;
  timeScale?: number;
  faults?: FaultSpec;
  json?: boolean;
  https?: boolean;
  /** Stops the emulator like SIGINT does (tests, embedding). */
  signal?: AbortSignal;
}

export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

const FAULT_KEYS: Record<string, keyof FaultSpec> = {
  '5xx': 'error5xxRate',
  reset: 'resetRate',
  'reset-after': 'resetAfterRate',
  hang: 'hangRate',
  throttle: 'throttleRate',
  'retry-after': 'retryAfterSeconds',
  latency: 'latencyMs',
  seed: 'seed',
};

export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value, extra] = part.split('=');
    if (value === undefined || extra !== undefined) {
      throw new UserError(
        `--faults: "${printable(part)}" is not key=value (e.g. 5xx=0.1,reset=0.05,latency=20)`,
      );
    }
    if (key === 'only') {
      const services = value.split(/[+|]/);
      if (services.some((s) => s !== 'dps' && s !== 'hub')) {
        throw new UserError(`--faults: only=${printable(value)}: expected dps, hub or dps+hub`);
      }
      spec.only = services as ('dps' | 'hub')[];
      continue;
    }
    const field = FAULT_KEYS[key];
    if (!field) {
      const known = [...Object.keys(FAULT_KEYS), 'only'].join(', ');
      throw new UserError(`--faults: unknown key "${printable(key)}"; known: ${known}`);
    }
    const n = Number(value);
    const isRate = field.endsWith('Rate');
    if (
      value === '' ||
      !Number.isFinite(n) ||
      n < 0 ||
      (isRate && n > 1) ||
      ((field === 'seed' || field === 'retryAfterSeconds') && !Number.isInteger(n))
    ) {
      const expected = isRate
        ? 'a rate from 0 to 1'
        : field === 'seed'
          ? 'an integer'
          : field === 'retryAfterSeconds'
            ? 'whole seconds, 0 or more'
            : 'milliseconds, 0 or more';
      throw new UserError(`--faults: ${key}=${printable(value)}: expected ${expected}`);
    }
    (spec as Record<string, number>)[field] = n;
  }
  const total =
    (spec.error5xxRate ?? 0) +
    (spec.resetRate ?? 0) +
    (spec.resetAfterRate ?? 0) +
    (spec.hangRate ?? 0) +
    (spec.throttleRate ?? 0);
  if (total > 1) throw new UserError('--faults: the rates add up to more than 1');
  return spec;
}

const integerFlag = (flag: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${flag} expects a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${flag} must be from ${min} to ${max}`);

const flagsSchema = z.object({
  port: integerFlag('--port', 0, 65535).optional(),
  state: z.string().min(1, '--state expects a file path').optional(),
  seed: z
    .string()
    .refine((s) => s === 'demo' || /^\d+$/.test(s), '--seed expects demo or a number of devices')
    .transform((s) => (s === 'demo' ? ('demo' as const) : Number(s)))
    .refine((s) => s === 'demo' || s <= 2_000_000, '--seed: at most 2,000,000 devices')
    .optional(),
  tier: z
    .string()
    .transform((s, ctx) => {
      const tier = toHubTier(s);
      if (tier) return standardTier(tier);
      ctx.addIssue({ code: 'custom', message: `--tier expects ${HUB_TIER_LIST}` });
      return z.NEVER;
    })
    .optional(),
  units: integerFlag('--units', 1, 200).optional(),
  timeScale: z
    .string()
    .transform(Number)
    .refine(
      (n) => Number.isFinite(n) && n > 0 && n <= 1_000_000,
      '--time-scale expects a positive number, e.g. 60',
    )
    .optional(),
  faults: z.string().optional(),
  json: z.boolean().optional(),
  https: z.boolean().optional(),
});

/** The emulator command's flags as commander gives them (typed where they are declared, in cli.ts). */
export type EmulatorFlags = z.input<typeof flagsSchema>;

/** Validates the flags (one schema); a bad one is a UserError that says what to give instead. */
export function parseEmulatorFlags(flags: EmulatorFlags): EmulatorCommandOptions {
  const parsed = flagsSchema.strict().safeParse(flags);
  if (!parsed.success) throw new UserError(parsed.error.issues[0]?.message ?? 'emulator: bad options');
  const { faults, ...rest } = parsed.data;
  return { ...rest, ...(faults !== undefined ? { faults: parseFaultSpec(faults) } : {}) };
}

function describe(em: EmulatorHandle, opts: EmulatorCommandOptions): string {
  const lines = [
    `IoT emulator listening on ${em.url}${opts.state ? ` (state: ${opts.state})` : ''}`,
    '',
    `DPS  ${em.dps.host}  ID scope ${em.dps.idScope}`,
    `     ${em.dps.connectionString}`,
  ];
  for (const h of em.hubs) lines.push(`Hub  ${h.host}`, `     ${h.connectionString}`);
  lines.push(
    '',
    'These keys exist only in this emulator. Point the tool at it with:',
    `  iot-deprovision --endpoint ${em.url} --dps "<DPS connection string>" \\`,
    '    --hub "<hub connection string>" ...',
    em.ca ? 'HTTPS: trust the emulator CA (printed with --json as "ca").' : '',
    'Press Ctrl-C to stop.',
  );
  return `${lines.filter((l, i) => l !== '' || lines[i - 1] !== '').join('\n')}\n`;
}

/** Starts the emulator, prints its endpoint, stays up until SIGINT/SIGTERM (or opts.signal). */
export async function runEmulatorCommand(opts: EmulatorCommandOptions, io: CommandIo): Promise<number> {
  let em: EmulatorHandle;
  try {
    em = await startEmulator({
      port: opts.port,
      statePath: opts.state,
      seed: opts.seed,
      tier: opts.tier,
      units: opts.units,
      timeScale: opts.timeScale,
      faults: opts.faults,
      https: opts.https,
    });
  } catch (err) {
    // The CLI's edge prints these (cli.ts explain): a state file or port problem is bad input.
    if (isUserError(err)) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      throw new UserError(
        `emulator: port ${opts.port} is in use; choose another --port (or 0 for any free port)`,
      );
    }
    throw new UserError(`emulator: could not start: ${e.message}`, { exitCode: EXIT.failed });
  }
  if (opts.json) {
    const line = {
      endpoint: em.url,
      ...(em.ca ? { ca: em.ca } : {}),
      ...(opts.state ? { state: opts.state } : {}),
      dps: em.dps,
      hubs: em.hubs,
    };
    io.stdout.write(`${safeJson(line)}\n`);
  } else {
    io.stdout.write(describe(em, opts));
  }
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      opts.signal?.removeEventListener('abort', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    if (opts.signal?.aborted) done();
    else opts.signal?.addEventListener('abort', done, { once: true });
  });
  await em.stop();
  if (!opts.json) io.stderr.write('emulator stopped\n');
  return EXIT.done;
}
