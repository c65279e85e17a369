/**
 * One opossum breaker per provider, configured like the gateway's worker breakers
 * (@mcp-cluster/resilience: same options, same defaults, opossum's call timeout off since
 * each call carries its own). Local to the process: a provider that fails is held back by
 * each worker on its own evidence; opossum's reset timer lets one trial through after
 * `resetMs`.
 */
import { DEFAULT_BREAKER_OPTIONS, rollingWindowOptions } from '@mcp-cluster/resilience';
import type { BreakerOptions } from '@mcp-cluster/resilience';
import CircuitBreaker from 'opossum';
import { ProviderFailure } from './http.js';

export type ProviderBreakerOptions = Pick<
  BreakerOptions,
  'errorRate' | 'minRequests' | 'windowMs' | 'resetMs'
>;

export type ProviderBreakerState = 'closed' | 'open' | 'half-open';

/** Thrown by `fire` while the breaker is open: no call was made. */
export class ProviderOpen extends Error {
  override readonly name = 'ProviderOpen';
  readonly code = 'SAMPLING_PROVIDER_OPEN';

  constructor(readonly provider: string) {
    super(`sampling provider ${provider} is unavailable (circuit open)`);
  }
}

type Call = () => Promise<unknown>;

export class ProviderBreaker {
  private readonly cb: CircuitBreaker<[Call], unknown>;

  constructor(
    readonly provider: string,
    options: Partial<ProviderBreakerOptions> = {},
    onChange?: (to: ProviderBreakerState) => void,
  ) {
    const o = { ...DEFAULT_BREAKER_OPTIONS, ...stripUndefined(options) };
    this.cb = new CircuitBreaker<[Call], unknown>((call) => call(), {
      ...rollingWindowOptions(provider, o, o.resetMs),
      // A refused request or a caller that left says nothing about the provider's health.
      errorFilter: (err: unknown) => err instanceof ProviderFailure && !err.countsAgainstProvider,
    });
    if (onChange !== undefined) {
      this.cb.on('open', () => onChange('open'));
      this.cb.on('halfOpen', () => onChange('half-open'));
      this.cb.on('close', () => onChange('closed'));
    }
  }

  get state(): ProviderBreakerState {
    return this.cb.opened ? 'open' : this.cb.halfOpen ? 'half-open' : 'closed';
  }

  /** Runs `call` through the breaker; ProviderOpen when it is open (call not made). */
  async fire<T>(call: () => Promise<T>): Promise<T> {
    try {
      return (await this.cb.fire(call)) as T;
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code === 'EOPENBREAKER') {
        throw new ProviderOpen(this.provider);
      }
      throw err;
    }
  }

  shutdown(): void {
    this.cb.shutdown();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
