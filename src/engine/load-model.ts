export type {
  ChatProtocol,
  GroupFindings,
  HistoryRow,
  HttpLoadFindings,
  HttpLoadSpec,
  LoadErrorClass,
  LoadFindings,
  LoadSettings,
  LoadMatchSpec as MatchSpec,
  MessageFindings,
  RampFindings,
  RequestSpec,
  TargetHealth,
} from '../contract.js';

// The group membership rule of the chat load step, which the plan's report and the engine must
// agree on. The step's plain data (the settings a plan puts in `StepSpec.ext.load`, the findings
// the engine extension returns in `StepResult.ext.load`) is in contract.ts, re-exported here.

// ------------------------------------------------------------------ groups and membership

export function groupName(prefix: string, i: number): string {
  return `${prefix}-${i}`;
}

/** Index of a group name made by groupName, or -1. */
export function groupIndex(prefix: string, name: string): number {
  if (name.length <= prefix.length + 1 || !name.startsWith(prefix) || name[prefix.length] !== '-') return -1;
  const rest = name.slice(prefix.length + 1);
  if (!/^(0|[1-9]\d*)$/.test(rest)) return -1;
  return Number(rest);
}

/**
 * How many groups connections join: all of them, unless that would leave groups with a single
 * member. With N connections joining k groups each there are N·k memberships; spreading them
 * over U = min(G, ⌊N·k / 2⌋) groups gives every used group at least two members, so every
 * message has someone to reach. The other groups are still created (they load the API and the
 * server's group table) but carry no traffic.
 */
export function usedGroups(connections: number, perConnection: number, groups: number): number {
  return Math.max(1, Math.min(groups, Math.floor((connections * perConnection) / 2)));
}

/**
 * The j-th group of connection i: memberships are numbered t = i·k + j and dealt round-robin
 * over the U used groups. A connection's k groups are consecutive, hence distinct (k ≤ U), and
 * group sizes differ by at most one.
 */
export function groupOf(i: number, j: number, perConnection: number, used: number): number {
  return (i * perConnection + j) % used;
}

/** Members of group g under groupOf: memberships t < N·k with t ≡ g (mod U). */
export function membersOf(g: number, connections: number, perConnection: number, used: number): number {
  const slots = connections * perConnection;
  return g < slots ? Math.floor((slots - 1 - g) / used) + 1 : 0;
}
