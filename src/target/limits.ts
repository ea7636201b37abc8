// Admission limits for long-lived connections, and the per-connection message rate check.
// Counting is synchronous with the upgrade (ws completes a handshake in the same tick when no
// verifyClient is set), so check-then-acquire cannot race.

export type Admission = 'ok' | 'total_limit' | 'client_limit';

export class ConnectionLimits {
  total = 0;
  /** Open connections per client key; only kept when a per-client cap is set. */
  private readonly perClient = new Map<string, number>();

  constructor(
    readonly maxTotal: number,
    readonly maxPerClient: number,
  ) {}

  check(clientKey: string): Admission {
    if (this.maxTotal > 0 && this.total >= this.maxTotal) return 'total_limit';
    if (this.maxPerClient > 0 && (this.perClient.get(clientKey) ?? 0) >= this.maxPerClient)
      return 'client_limit';
    return 'ok';
  }

  acquire(clientKey: string): void {
    this.total++;
    if (this.maxPerClient > 0) this.perClient.set(clientKey, (this.perClient.get(clientKey) ?? 0) + 1);
  }

  release(clientKey: string): void {
    this.total--;
    if (this.maxPerClient > 0) {
      const n = (this.perClient.get(clientKey) ?? 1) - 1;
      // Delete at zero so the map holds only clients with open connections.
      if (n <= 0) this.perClient.delete(clientKey);
      else this.perClient.set(clientKey, n);
    }
  }

  /** Distinct clients with an open connection (0 when no per-client cap is set). */
  get clients(): number {
    return this.perClient.size;
  }
}

/** Token-bucket state kept on each connection: two numbers, no timer. */
export interface RateState {
  tokens: number;
  tokensAt: number;
}

/**
 * Takes one message from the bucket (capacity = one second's worth, refilled continuously);
 * false when the connection is over its rate.
 */
export function takeToken(s: RateState, now: number, perSec: number): boolean {
  const refill = ((now - s.tokensAt) * perSec) / 1000;
  s.tokens = Math.min(perSec, s.tokens + refill);
  s.tokensAt = now;
  if (s.tokens < 1) return false;
  s.tokens -= 1;
  return true;
}
