/**
 * The optional config file `$XDG_CONFIG_HOME/iot-deprovision/config.json` (default ~/.config/...):
 * `{ "dps": "...", "hubs": ["..."], "endpoint": "http://127.0.0.1:PORT", "jobStorage": "https://...?sv=...&sig=..." }`
 * (jobStorage: also the container URL alone, or ACCOUNT/CONTAINER, for Entra ID sign-in; a list of them,
 * or a JSON array, for several containers: the hubs' jobs then run at once, one container each).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../../core/errors.js';

export const FileConfigSchema = z
  .object({
    dps: z.string().min(1).optional(),
    hubs: z.array(z.string().min(1)).default([]),
    endpoint: z.string().min(1).optional(),
    /** Job storage for hub import/export jobs, in any form --job-storage takes (a SAS URL, or Entra ID). */
    jobStorage: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  })
  .strict();

export type FileConfig = z.infer<typeof FileConfigSchema>;

export function defaultConfigPath(env: Record<string, string | undefined> = process.env): string {
  // XDG says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg?.startsWith('/') ? xdg : join(env.HOME || homedir(), '.config');
  return join(base, 'iot-deprovision', 'config.json');
}

/** Reads and validates the config file; a missing file is no config. Messages never quote the content. */
export function loadConfigFile(path: string): FileConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(
      `config file ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error, which may be a key.
    throw new UserError(`config file ${path}: not valid JSON`);
  }
  const result = FileConfigSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join('.') : 'top level';
    throw new UserError(
      `config file ${path}: ${where}: ${issue.message} ` +
        '(expected {"dps": "...", "hubs": ["..."], "endpoint": "..."})',
    );
  }
  return result.data;
}
