import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

import { isLoopbackHost } from '../common/loopback.js';
import { DEFAULT_CONFIG_FILE } from './agent-config.loader.js';
import { isBlankKey, keyProblems } from './agent-keys.js';
import { DEFAULT_DATABASE_URL } from '../postback.data-source.js';

/**
 * The agent's environment, validated once at start-up. Secrets (the API key, tracker secrets
 * named in the config file) only ever come from here.
 */
export class AgentEnv {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  /** Interface to listen on. Without an API key only loopback is allowed. */
  @IsOptional()
  @IsString()
  HOST?: string;

  /** Bearer key every API call must present. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'POSTBACK_API_KEY must be at least 16 characters' })
  POSTBACK_API_KEY?: string;

  /** Bearer key of the outbox operations (replay, cancel, purge); they are off without it. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'POSTBACK_ADMIN_KEY must be at least 16 characters' })
  POSTBACK_ADMIN_KEY?: string;

  /**
   * Key of the HMAC that visitor keys (`sessionKey`) are stored under; without it they are
   * stored as SHA-256, with a warning. The migration that hashes older rows reads it too.
   */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'POSTBACK_VISITOR_KEY_SECRET must be at least 16 characters' })
  POSTBACK_VISITOR_KEY_SECRET?: string;

  @IsString()
  POSTBACK_CONFIG: string = DEFAULT_CONFIG_FILE;

  @IsString()
  DATABASE_URL: string = DEFAULT_DATABASE_URL;

  @IsIn(['FULL', 'NORMAL'])
  SQLITE_SYNCHRONOUS: 'FULL' | 'NORMAL' = 'FULL';
}

/** Reads and checks the environment; throws one error naming every problem. */
export function loadAgentEnv(environment: NodeJS.ProcessEnv): AgentEnv {
  const raw = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = plainToInstance(AgentEnv, {
    ...raw,
    ...(raw.PORT !== undefined && { PORT: Number(raw.PORT) }),
  });
  const problems = validateSync(env, { forbidUnknownValues: false })
    // A blank key gets its own message below, not a length rule as well.
    .filter((error) => !isBlankKey(environment, error.property))
    .flatMap((error) => Object.values(error.constraints ?? {}));
  problems.push(...keyProblems(environment));
  if (!env.POSTBACK_API_KEY && env.HOST && !isLoopbackHost(env.HOST)) {
    problems.push(
      `HOST=${env.HOST} would expose the API without a key: set POSTBACK_API_KEY, or listen on loopback`,
    );
  }
  if (problems.length > 0) {
    throw new Error(`The agent's environment is invalid:\n  - ${problems.join('\n  - ')}`);
  }
  return env;
}

/** Where to listen: the given host, else all interfaces with a key and loopback without. */
export function listenHost(env: AgentEnv): string {
  return env.HOST ?? (env.POSTBACK_API_KEY ? '0.0.0.0' : '127.0.0.1');
}

/** The database URL for the log: no password, in the user part or in the query. */
export function withoutCredentials(databaseUrl: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(databaseUrl)) return databaseUrl; // a SQLite path
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    for (const key of [...url.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) url.searchParams.set(key, '***');
    }
    return url.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
