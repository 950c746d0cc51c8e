import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs (one object per line) to stdout; `LOG_PRETTY` is for humans at a terminal. */
export function createLogger(options: { level: pino.LevelWithSilent; name?: string }): Logger {
  return pino({
    name: options.name ?? 'parley',
    level: options.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'password', 'refreshToken', 'accessToken', 'token'], censor: '[redacted]' },
  });
}
