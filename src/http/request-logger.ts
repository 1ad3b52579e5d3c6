import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type Logging = (...args: unknown[]) => void;

/**
 * The logger behind `request.log`. Fastify makes a pino child logger (request id bound) for every
 * request; building one serialises its bindings and copies the level, about 4% of a create's CPU,
 * while most requests log nothing (request logging is off; failed and slow requests are logged).
 * This one has the same bindings and output but builds the pino child only when the request first
 * logs at an enabled level.
 */
export class LazyRequestLogger implements FastifyBaseLogger {
  private built: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.built?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger().level = level;
  }

  // Methods on the prototype, not per-instance closures: one small object per request is the whole cost.
  fatal(...args: unknown[]): void {
    (this.logger().fatal as Logging)(...args);
  }
  error(...args: unknown[]): void {
    (this.logger().error as Logging)(...args);
  }
  warn(...args: unknown[]): void {
    (this.logger().warn as Logging)(...args);
  }
  info(...args: unknown[]): void {
    (this.logger().info as Logging)(...args);
  }
  debug(...args: unknown[]): void {
    (this.logger().debug as Logging)(...args);
  }
  trace(...args: unknown[]): void {
    (this.logger().trace as Logging)(...args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }

  private logger(): FastifyBaseLogger {
    return (this.built ??= this.parent.child(this.bindings, this.options));
  }
}
