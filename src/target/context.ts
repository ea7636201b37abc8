import type { WebSocket, WebSocketServer } from 'ws';
import type { TokenAuth } from './auth.js';
import type { Bus } from './bus.js';
import type { Conn } from './chat.js';
import type { Faults } from './faults.js';
import type { UserConns } from './group-chat.js';
import type { GroupRegistry } from './groups.js';
import type { IdleWheel } from './idle.js';
import type { ConnectionLimits } from './limits.js';
import type { LoopDelay } from './metrics.js';
import type { TargetOptions } from './options.js';
import type { SseHub } from './sse.js';
import type { TargetStats } from './stats.js';

/** Everything one running target owns; handlers reach it through their connection or server. */
export interface TargetContext {
  readonly opts: Readonly<TargetOptions>;
  readonly auth: TokenAuth;
  readonly limits: ConnectionLimits;
  readonly stats: TargetStats;
  readonly bus: Bus;
  /** Random per start: tells this instance's messages apart on a shared bus. */
  readonly instanceId: string;
  readonly wss: WebSocketServer;
  /** Open WebSockets (ws clientTracking is off: this set is the one list), in connection order. */
  readonly sockets: Set<WebSocket>;
  readonly idle: IdleWheel<Conn> | null;
  readonly loopDelay: LoopDelay;
  readonly groups: GroupRegistry<Conn>;
  /** Open WebSockets by token subject, once group members are in use. */
  readonly userConns: UserConns;
  /** WebSockets subscribed to the codes channel. */
  readonly codeSubs: Set<Conn>;
  readonly sse: SseHub;
  readonly faults: Faults;
  /** cluster worker id, 0 in a single process. */
  readonly worker: number;
  connSeq: number;
  closing: boolean;
}
