/**
 * Parses arguments, builds the services, renders the TUI or runs a headless command.
 * Exit codes: 0 done, 1 some steps failed, 2 bad usage or input, 3 aborted/interrupted (resumable).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option, type OptionValues } from '@commander-js/extra-typings';
import { parseCertificateChain } from './core/certs.js';
import { HUB_TIER_LIST, toHubTier } from './core/hub-tier.js';
import type { SelectorFlags } from './commands/args.js';
import type { Io } from './commands/headless.js';
import type { TargetFlags } from './commands/session.js';
import type { SessionBackend } from './services/session/create-backend.js';
import { EXIT, isServiceError, isUserError, UserError } from './core/errors.js';
import { printable, sanitizeLines } from './core/text.js';
import { scrubSecrets } from './services/secrets.js';
import { setInvocation } from './core/invocation.js';
import { detectInvocation } from './services/invocation.js';

const collectValues = (value: string, previous: string[] = []) => [...previous, value];

/** --hub-tier: one of the hub tiers (any case), the same list `emulator --tier` takes. */
const hubTierArg = (value: string) => {
  const tier = toHubTier(value);
  if (!tier) throw new UserError(`--hub-tier "${printable(value)}": expected ${HUB_TIER_LIST}`);
  return tier;
};

// Each helper adds options to a command and keeps their types: the action gets typed flags, not a bag.

function addTargetOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(
  cmd: Command<A, O, G>,
) {
  return cmd
    .option('--sandbox', 'work on the embedded emulator with the demo fleet')
    .option('--state <file>', 'sandbox state file (keeps the sandbox between runs)')
    .option('--dps <conn-string|host>', 'DPS: service connection string, or host name for Entra ID sign-in')
    .option('--hub <conn-string|host>', 'IoT hub (repeat per hub)', collectValues)
    .option('--endpoint <url>', 'send every service call to this emulator URL (or IOT_DEPROVISION_ENDPOINT)')
    .option('--endpoint-ca <file>', 'CA certificate (PEM) of an HTTPS --endpoint')
    .option(
      '--hub-tier <tier>',
      `hub tier for client-side rate limits: ${HUB_TIER_LIST} (default S1)`,
      hubTierArg,
    )
    .option('--hub-units <n>', 'hub units for client-side rate limits (default 1)')
    .option(
      '--skip-hub-lookup <hub>',
      'do not look the devices up on this hub (repeatable): identities there that no record names are left',
      collectValues,
    );
}

/** How hub steps go: device by device, or through the hubs' import/export jobs (fleet scale). */
function addJobStorageOption<A extends unknown[], O extends OptionValues, G extends OptionValues>(
  cmd: Command<A, O, G>,
) {
  return cmd.option(
    '--job-storage <url>',
    "job storage for import/export jobs: a blob container URL with a SAS (read, write, list, delete), or the container URL alone or ACCOUNT/CONTAINER to sign in with Entra ID (or IOT_DEPROVISION_JOB_STORAGE); repeat per container: one per hub runs the hubs' jobs at once",
    collectValues,
  );
}

function addJobOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(
  cmd: Command<A, O, G>,
) {
  return addJobStorageOption(cmd).option(
    '--hub-path <path>',
    "hub steps: calls (device by device), jobs (the hub's import/export jobs) or auto (default: jobs where faster, given job storage)",
  );
}

function addSelectorOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(
  cmd: Command<A, O, G>,
) {
  return cmd
    .option('--enrollment <id>', 'an individual enrollment (registration ID)')
    .option('--group <id>', 'an enrollment group')
    .option(
      '--device <reg-id>',
      'one device of the group (repeatable): it gets a disabled blocker enrollment',
      collectValues,
    )
    .option(
      '--device-cert <pem-file>',
      'device certificate (PEM) for an X.509 blocker (repeatable)',
      collectValues,
    )
    .option(
      '--orphaned-records <group-id>',
      'a deleted enrollment group: delete the registration records it left (they count against the DPS quota)',
    )
    .option(
      '--device-id <id>',
      'a device by its ID, wherever it is enrolled (repeatable): its individual enrollment, or a blocker in its group, and every hub identity',
      collectValues,
    )
    .option(
      '--devices-from <file>',
      'device IDs, one a line (blank lines and # comments ignored), like --device-id',
    );
}

function addActionOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(
  cmd: Command<A, O, G>,
) {
  return cmd
    .addOption(new Option('--disenroll <action>', 'DPS action: disable (temporary) or delete (permanent)'))
    .addOption(new Option('--deregister <action>', 'hub action: disable, delete or none'))
    .option('--delete-registrations', 'whole group: delete its registration records after the hub step')
    .option('--delete-group', 'whole group: delete the enrollment group at the end')
    .option(
      '--include-children',
      'IoT Edge gateways: deregister their child devices too (the same hub action)',
    );
}

// The headless commands load on demand (their argument parsing brings zod, ~0.1 s on a slow machine):
// the TUI's first frame needs none of them.
const commands = () => import('./commands/headless.js');

/** Reads --device-cert files: the registration ID of an X.509 device is its certificate's CN. */
async function selectorFlags(opts: {
  enrollment?: string;
  group?: string;
  device?: string[];
  deviceCert?: string[];
  orphanedRecords?: string;
  deviceId?: string[];
  devicesFrom?: string;
}): Promise<SelectorFlags> {
  const { printable } = await import('./commands/args.js');
  const files = opts.deviceCert ?? [];
  const deviceCertPems = files.map((file) => {
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch {
      throw new UserError(`--device-cert ${printable(file)}: cannot read the file`);
    }
    let leaf: ReturnType<typeof parseCertificateChain>[number];
    try {
      [leaf] = parseCertificateChain(pem);
    } catch (e) {
      // The parser does not know which file it read: name the flag and the file.
      throw new UserError(`--device-cert ${printable(file)}: ${(e as Error).message}`);
    }
    return { file, pem, commonName: leaf.commonName };
  });
  const listFile = opts.devicesFrom as string | undefined;
  let devicesFrom: { file: string; text: string } | undefined;
  if (listFile !== undefined) {
    try {
      devicesFrom = { file: listFile, text: readFileSync(listFile, 'utf8') };
    } catch {
      throw new UserError(`--devices-from ${printable(listFile)}: cannot read the file`);
    }
  }
  return {
    deviceIds: opts.deviceId,
    ...(devicesFrom ? { devicesFrom } : {}),
    enrollment: opts.enrollment,
    group: opts.group,
    device: opts.device,
    ...(opts.orphanedRecords !== undefined ? { orphanedRecords: opts.orphanedRecords } : {}),
    deviceCertPems,
  };
}

export function buildProgram(io: Io, signal: AbortSignal, setExit: (code: number) => void): Command {
  const withSession = async (opts: TargetFlags, fn: (backend: SessionBackend) => Promise<number>) => {
    // Loaded on demand: the SDKs and the emulator are slow to import, and `runs` or `--help` need neither.
    const { openSession } = await import('./commands/session.js');
    const backend = await openSession(opts, {
      signal,
      env: io.env,
      notice: (text) => io.stderr(`${text}\n`),
    });
    try {
      setExit(await fn(backend));
    } finally {
      await backend.close();
    }
  };

  // resume and restore: the target comes from the run's journal, the credentials from the usual places.
  const withRunSession = async (
    runId: string | undefined,
    opts: TargetFlags,
    fn: (backend: SessionBackend, runId: string | undefined) => Promise<number>,
  ) => {
    const { openRunSession } = await import('./commands/session.js');
    const notice = (text: string) => io.stderr(`${text}\n`);
    const { backend, runId: chosen } = await openRunSession(runId, opts, { signal, env: io.env, notice });
    try {
      setExit(await fn(backend, chosen));
    } finally {
      await backend.close();
    }
  };

  const program = new Command('iot-deprovision')
    .description(
      'Deprovision Azure IoT devices safely: block the device at DPS, then revoke its IoT hub identity.\n' +
        'Without a command: the guided TUI (sandbox unless a DPS is configured).',
    )
    .exitOverride()
    .enablePositionalOptions()
    // Commander echoes what was typed (an unknown flag, a bad value): through the one sanitizer too.
    .configureOutput({
      writeOut: io.stdout,
      writeErr: (text) => io.stderr(sanitizeLines(scrubSecrets(text))),
    })
    .showHelpAfterError('(iot-deprovision --help for usage)');
  addJobOptions(addTargetOptions(program)).action(async (opts) => {
    // Bad --hub-path or job storage is bad input (exit 2), said before the TUI draws, as `plan` says it.
    // Only when one is given: the check loads the storage client (about 0.2 s) before the first frame.
    const env = io.env ?? process.env;
    if (opts.hubPath !== undefined || opts.jobStorage !== undefined || env.IOT_DEPROVISION_JOB_STORAGE) {
      const { jobOptionsOf } = await import('./commands/job-options.js');
      // Without --dps or --endpoint this is the sandbox, unless a target is configured (known only once
      // the session loads, which then says what is wrong): checked here as the sandbox, with its own storage.
      jobOptionsOf({ ...opts, sandbox: opts.sandbox || (!opts.dps && !opts.endpoint) }, env);
    }
    // The TUI draws its first frame before the session (SDKs, emulator: about a second) is loaded.
    const { runTui, STARTING_SANDBOX } = await import('./screens/run-tui.js');
    let session: Promise<SessionBackend> | undefined;
    const open = () => {
      session = import('./commands/session.js').then(({ hasConfiguredTarget, openSession }) => {
        const sandbox = opts.sandbox || !hasConfiguredTarget(opts, io.env);
        // Hub steps go the way --hub-path, --job-storage (or the environment, the config file) say.
        return openSession({ ...opts, sandbox }, { signal, env: io.env });
      });
      return session;
    };
    try {
      setExit(await runTui(open, opts.sandbox ? { starting: STARTING_SANDBOX } : {}));
    } finally {
      await session?.then(
        (backend) => backend.close(),
        () => undefined,
      );
    }
  });

  const plan = program.command('plan').description('print the plan for a selection; change nothing');
  addJobOptions(addActionOptions(addSelectorOptions(addTargetOptions(plan)))).option(
    '--json',
    'print the plan as JSON',
  );
  plan.action(async (opts) => {
    const { planCommand } = await commands();
    await withSession(opts, async (b) => planCommand(b, { ...opts, ...(await selectorFlags(opts)) }, io));
  });

  const run = program.command('run').description('execute a plan without the TUI (needs --yes)');
  addJobOptions(addActionOptions(addSelectorOptions(addTargetOptions(run))))
    .option('--yes', 'confirm: execute without asking')
    .option('--json', 'JSON lines: started, progress, summary');
  run.action(async (opts) => {
    const { runCommand } = await commands();
    await withSession(opts, async (b) => runCommand(b, { ...opts, ...(await selectorFlags(opts)) }, io));
  });

  const resume = program
    .command('resume')
    .description('finish an interrupted run from its journal')
    .argument('[run-id]');
  addJobStorageOption(addTargetOptions(resume))
    .option('--retry-failed', 'also run again the steps that failed')
    .option('--json', 'JSON lines');
  resume.action(async (runId, opts) => {
    const { resumeCommand } = await commands();
    await withRunSession(runId, opts, (b, id) => resumeCommand(b, id, opts, io));
  });

  const restore = program
    .command('restore')
    .description('undo the temporary (disable) actions of a run')
    .argument('<run-id>');
  addJobOptions(addTargetOptions(restore))
    .option('--yes', 'confirm: execute without asking')
    .option('--json', 'JSON lines');
  restore.action(async (runId, opts) => {
    const { restoreCommand } = await commands();
    await withRunSession(runId, opts, (b, id) => restoreCommand(b, id ?? runId, opts, io));
  });

  const verify = program
    .command('verify')
    .description('read back; report whether each device could re-enroll');
  addJobOptions(addSelectorOptions(addTargetOptions(verify)))
    .option('--json', 'print verdicts as JSON')
    .option('--attempt', 'sandbox: each device also registers for real; compare with the prediction');
  verify.action(async (opts) => {
    const { verifyCommand } = await commands();
    await withSession(opts, async (b) => verifyCommand(b, { ...opts, ...(await selectorFlags(opts)) }, io));
  });

  program
    .command('runs')
    .description('list recorded runs')
    .option('--json', 'print as JSON')
    .action(async (opts) => setExit(await (await commands()).runsCommand(opts, io)));

  program
    .command('emulator')
    .description('run the local DPS + IoT Hub emulator; print its endpoint and connection strings')
    .option('--port <n>', 'port (default: a free one)')
    .option('--state <file>', 'state file (kept between starts)')
    .option('--seed <demo|N>', 'demo fleet, or N generated devices')
    .option('--tier <tier>', `hub tier (identity registry limits): ${HUB_TIER_LIST}`)
    .option('--units <k>', 'hub units')
    .option('--time-scale <x>', 'run the service limits x times faster')
    .option('--faults <spec>', 'e.g. 5xx=0.1,reset=0.05,hang=0.01,latency=20,seed=7')
    .option('--https', 'serve HTTPS with a generated self-signed certificate')
    .option('--json', 'print one JSON line')
    .action(async (opts) => {
      const { parseEmulatorFlags, runEmulatorCommand } = await import('./commands/emulator.js');
      setExit(
        await runEmulatorCommand(parseEmulatorFlags(opts), {
          stdout: { write: (t: string) => io.stdout(t) },
          stderr: { write: (t: string) => io.stderr(t) },
        }),
      );
    });
  return program;
}

/** What each kind of refused service call asks the person to check. */
const SERVICE_HINT: Partial<Record<string, string>> = {
  unauthorized: 'the key or token was refused: check the connection string or sign-in',
  forbidden: 'signed in, but not allowed: check the role or policy permissions',
};

/**
 * The one place errors become what a person reads: the reason, what to try and the exit code, never a
 * stack or a secret. A service refusing the request (credentials, permissions, a bad or missing
 * target) is bad input (2); any other failure is 1.
 */
export function toUserError(err: unknown): UserError {
  if (isUserError(err)) return err;
  if (isServiceError(err)) {
    const usage = ['unauthorized', 'forbidden', 'badRequest', 'notFound'].includes(err.kind);
    return new UserError(err.message, {
      ...(SERVICE_HINT[err.kind] ? { hint: SERVICE_HINT[err.kind] } : {}),
      exitCode: usage ? EXIT.usage : EXIT.failed,
    });
  }
  return new UserError(err instanceof Error ? err.message : String(err), { exitCode: EXIT.failed });
}

export function explain(err: unknown): { message: string; code: number } {
  const e = toUserError(err);
  return { message: e.hint ? `${e.message} (${e.hint})` : e.message, code: e.exitCode };
}

export async function main(argv: string[], io: Io): Promise<number> {
  // The commands the program prints start the way that works from this install's shell.
  setInvocation(detectInvocation(io.env ?? process.env, argv[1]));
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      io.stderr(
        '\nStopping after the calls in flight finish (the journal records where). Ctrl-C again to quit now.\n',
      );
      controller.abort();
    } else {
      process.exit(EXIT.aborted);
    }
  };
  let code: number = EXIT.done;
  const program = buildProgram(io, controller.signal, (c) => {
    code = c;
  });
  // A command's name first: that command; anything else (flags only): the TUI.
  const isTui = !program.commands.some((c) => c.name() === argv[2]);
  // The TUI and the emulator handle their own signals.
  if (!isTui && argv[2] !== 'emulator') process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.done : EXIT.usage;
    const { message, code: exit } = explain(err);
    // Every message, whatever made it, passes the one sanitizer (IDs and values from services or users).
    io.stderr(`iot-deprovision: ${sanitizeLines(scrubSecrets(message))}\n`);
    if (io.env?.IOT_DEPROVISION_DEBUG && err instanceof Error)
      io.stderr(`${sanitizeLines(scrubSecrets(err.stack ?? ''))}\n`);
    return exit;
  } finally {
    // After a first Ctrl-C the handler stays until the process ends: a second one while the last calls
    // settle exits 3 (aborted, resumable), never by the signal's default.
    if (interrupts === 0) process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

const io: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};
process.exitCode = await main(process.argv, io);
