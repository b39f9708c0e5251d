// Structured JSON lines on stdout, filtered by LOG_LEVEL. Callers never pass secrets.
import type { LogLevel } from "./config";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type Logger = Record<Exclude<LogLevel, "silent">, (msg: string, fields?: Record<string, unknown>) => void> & {
  enabled(level: LogLevel): boolean;
};

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  const at =
    (l: Exclude<LogLevel, "silent">) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[l] >= ORDER[level]) write(JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...fields }));
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    enabled: (l) => ORDER[l] >= ORDER[level],
  };
}
