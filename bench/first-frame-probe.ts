/**
 * Loaded with `node --import` into the program the TUI benchmark starts: when the first frame (the
 * header) is written, records the process's own clock (milliseconds since the process started) and
 * the CPU time it used so far, in the file named by IOT_DEPROVISION_BENCH_PROBE. The CPU time says
 * what the start costs on a machine busy with other work, where the wall time says mostly how busy.
 */
import { writeFileSync } from 'node:fs';

const file = process.env.IOT_DEPROVISION_BENCH_PROBE;
if (file) {
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
  let seen = false;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (!seen && String(chunk).includes('iot-deprovision')) {
      seen = true;
      const cpu = process.cpuUsage();
      writeFileSync(file, JSON.stringify({ ms: performance.now(), cpuMs: (cpu.user + cpu.system) / 1000 }));
    }
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
}
