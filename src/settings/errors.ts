// A setting that is wrong: the command says what and exits 2, before any work.

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
