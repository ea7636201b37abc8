import type { TargetOptionDef } from './options.js';
import { parseCountValue, parseDurationMs, parseMs } from './parse-text.js';

// The rows of the option table for groups, SSE, the Redis bus and the test-only faults. They are
// part of the one table (options.ts spreads them in); kept here so that file stays readable.

/** The most entries a JavaScript Map holds (2^24); MAX_TOTAL_GROUPS=0 means this. */
export const GROUPS_HARD_MAX = 16_000_000;

/** Most group memberships held (a Map entry per member user); MAX_TOTAL_MEMBERS=0 means this. */
export const MEMBERS_HARD_MAX = 16_000_000;

export const FEATURE_DEFAULTS = {
  maxTotalGroups: 10_000_000,
  maxTotalMembers: 1_000_000,
  maxTotalJoins: 1_000_000,
  redisUrl: '',
  sseHeartbeatMs: 15_000,
  sseReplay: 1000,
  faultGroupDelayMs: 0,
  faultDropEvery: 0,
  faultStallAtMs: 0,
  faultStallMs: 0,
  faultCloseEvery: 0,
  faultCloseAtMs: 0,
} as const;

export const FEATURE_OPTIONS: readonly TargetOptionDef[] = [
  {
    key: 'maxTotalGroups',
    env: 'MAX_TOTAL_GROUPS',
    flag: '--max-total-groups',
    arg: '<n>',
    help: `groups held in memory; creating more gets HTTP 507 (0: the hard maximum, ${GROUPS_HARD_MAX})`,
    shown: '10m',
    parse: parseCountValue,
  },
  {
    key: 'maxTotalMembers',
    env: 'MAX_TOTAL_MEMBERS',
    flag: '--max-total-members',
    arg: '<n>',
    help: `group memberships (user, group) held in memory; more get HTTP 403 (0: the hard maximum, ${MEMBERS_HARD_MAX})`,
    shown: '1m',
    parse: parseCountValue,
  },
  {
    key: 'maxTotalJoins',
    env: 'MAX_TOTAL_JOINS',
    flag: '--max-total-joins',
    arg: '<n>',
    help: `connections in groups (joined, or as member users) held in memory; a join past it gets the error frame join_limit (0: the hard maximum, ${MEMBERS_HARD_MAX})`,
    shown: '1m',
    parse: parseCountValue,
  },
  {
    key: 'redisUrl',
    env: 'REDIS_URL',
    flag: '--redis',
    arg: '<url>',
    help: 'share groups, group messages and broadcasts with other instances through Redis pub/sub',
    shown: 'off (in memory)',
    parse: (raw) => raw.trim(),
  },
  {
    key: 'sseHeartbeatMs',
    env: 'SSE_HEARTBEAT',
    flag: '--sse-heartbeat',
    arg: '<duration>',
    help: 'comment line sent to every SSE stream this often (0: off)',
    shown: '15s',
    parse: parseDurationMs,
  },
  {
    key: 'sseReplay',
    env: 'SSE_REPLAY',
    flag: '--sse-replay',
    arg: '<n>',
    help: 'events kept for Last-Event-ID resumption (0: none)',
    shown: '1000',
    parse: parseCountValue,
  },
  {
    key: 'faultGroupDelayMs',
    env: 'FAULT_GROUP_DELAY_MS',
    flag: '--fault-group-delay-ms',
    arg: '<ms>',
    help: 'test aid: delay every group message delivery by this long',
    shown: 'off',
    parse: parseMs,
  },
  {
    key: 'faultDropEvery',
    env: 'FAULT_DROP_EVERY',
    flag: '--fault-drop-every',
    arg: '<k>',
    help: 'test aid: drop every k-th delivery of a group message',
    shown: 'off',
    parse: parseCountValue,
  },
  {
    key: 'faultStallAtMs',
    env: 'FAULT_STALL_AT_MS',
    flag: '--fault-stall-at-ms',
    arg: '<ms>',
    help: 'test aid: when to block the event loop, after the first group message',
    shown: '0',
    parse: parseMs,
  },
  {
    key: 'faultStallMs',
    env: 'FAULT_STALL_MS',
    flag: '--fault-stall-ms',
    arg: '<ms>',
    help: 'test aid: block the event loop once for this long (busy wait)',
    shown: 'off',
    parse: parseMs,
  },
  {
    key: 'faultCloseEvery',
    env: 'FAULT_CLOSE_EVERY',
    flag: '--fault-close-every',
    arg: '<k>',
    help: 'test aid: close every k-th open WebSocket once, with 1001 "going away"',
    shown: 'off',
    parse: parseCountValue,
  },
  {
    key: 'faultCloseAtMs',
    env: 'FAULT_CLOSE_AT_MS',
    flag: '--fault-close-at-ms',
    arg: '<ms>',
    help: 'test aid: when to close them, after the first WebSocket connection',
    shown: '0',
    parse: parseMs,
  },
];
