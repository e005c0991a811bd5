/**
 * Startup and runtime errors of the hardware layer. Each names what failed and the config key that chose it, so
 * the agent can print one clear line instead of a stack trace.
 */
export class HalError extends Error {
  constructor(
    message: string,
    /** The config key the user can change, e.g. `board.audio_in_device`. */
    readonly configKey: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A device (sound card, GPIO chip, serial port) is absent or cannot be opened. */
export class DeviceUnavailableError extends HalError {
  constructor(
    readonly device: string,
    configKey: string,
    readonly reason: string,
  ) {
    super(`${device} (${configKey}) is not usable: ${reason}`, configKey);
  }
}

/** An optional npm package a driver needs (onoff, speaker, mic, serialport) is not installed or did not build. */
export class DriverPackageMissingError extends HalError {
  constructor(
    readonly packageName: string,
    configKey: string,
    readonly reason: string,
  ) {
    super(`package "${packageName}" needed for ${configKey} could not be loaded: ${reason}`, configKey);
  }
}

/** A config value a driver cannot use (pin out of range, unknown driver name, unreadable WAV). */
export class BoardConfigError extends HalError {
  constructor(configKey: string, readonly value: unknown, reason: string) {
    super(`${configKey} = ${JSON.stringify(value)}: ${reason}`, configKey);
  }
}

/** Loads an optional package lazily and turns "not installed" into a typed error naming the config key. */
export async function importOptional<T>(packageName: string, configKey: string): Promise<T> {
  try {
    return (await import(packageName)) as T;
  } catch (err) {
    throw new DriverPackageMissingError(packageName, configKey, err instanceof Error ? err.message : String(err));
  }
}

/** The slice of pino the drivers use (pino's `(obj, msg)` form), so tests can pass a recorder. */
export interface HalLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLog: HalLog = { debug() {}, info() {}, warn() {}, error() {} };
