/**
 * Parses arguments, builds the services, renders the TUI or runs a headless command.
 * Exit codes: 0 done, 1 some steps failed, 2 bad usage or input, 3 aborted/interrupted (resumable).
 */
import { Command, CommanderError } from 'commander';

export const EXIT = { done: 0, failed: 1, usage: 2, aborted: 3 } as const;

export function buildProgram(): Command {
  const program = new Command('iot-deprovision')
    .description('Deprovision Azure IoT devices safely: revoke DPS enrollment, then the IoT hub identity.')
    .exitOverride()
    .showHelpAfterError('(run iot-deprovision --help for usage)');
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return (process.exitCode as number | undefined) ?? EXIT.done;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.done : EXIT.usage;
    }
    process.stderr.write(`iot-deprovision: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.usage;
  }
}

process.exitCode = await main(process.argv);
