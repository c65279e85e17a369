/**
 * Provider keys, read once at startup from the environment variable or file the
 * configuration names. Errors name the variable or file, never a value.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '@mcp-cluster/config';
import type { SamplingConfig } from '@mcp-cluster/config';

export type ProviderConfig = SamplingConfig['providers'][number];

export interface SecretSources {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly readFile?: (path: string) => string;
}

/** The provider's key; a ConfigError (the node must not start) when it cannot be read. */
export function readProviderKey(p: ProviderConfig, sources: SecretSources = {}): string {
  if (p.apiKeyEnv !== undefined) {
    const value = (sources.env ?? process.env)[p.apiKeyEnv]?.trim();
    if (value === undefined || value === '') {
      throw new ConfigError([
        `sampling provider ${p.name}: environment variable ${p.apiKeyEnv} is not set`,
      ]);
    }
    return value;
  }
  const file = p.apiKeyFile as string;
  let text: string;
  try {
    text = (sources.readFile ?? ((f) => readFileSync(f, 'utf8')))(file);
  } catch (cause) {
    throw new ConfigError([`sampling provider ${p.name}: key file ${file} cannot be read`], {
      cause,
    });
  }
  const value = text.trim();
  if (value === '') {
    throw new ConfigError([`sampling provider ${p.name}: key file ${file} is empty`]);
  }
  return value;
}
