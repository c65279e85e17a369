/** Local router errors: never serialized; the gateway maps them to a protocol error. */
export const RouterErrorCode = {
  NoWorker: 'NO_WORKER',
  UnknownStrategy: 'UNKNOWN_STRATEGY',
  InvalidWorker: 'INVALID_WORKER',
  InvalidOptions: 'INVALID_OPTIONS',
} as const;
export type RouterErrorCode = (typeof RouterErrorCode)[keyof typeof RouterErrorCode];

/**
 * Why no worker could be chosen. `saturated`: candidates are healthy but every one is at its
 * concurrency limit, so a slot frees when one of their requests ends (the gateway may queue).
 */
export type NoWorkerReason = 'empty-pool' | 'no-owner' | 'no-healthy' | 'saturated';

export class RouterError extends Error {
  override readonly name = 'RouterError';
  readonly code: RouterErrorCode;
  readonly reason: NoWorkerReason | undefined;

  constructor(
    code: RouterErrorCode,
    message: string,
    options?: { reason?: NoWorkerReason; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = options?.reason;
  }
}

export const noWorker = (reason: NoWorkerReason, what: string): RouterError =>
  new RouterError(RouterErrorCode.NoWorker, `no worker for ${what}: ${reason}`, { reason });
