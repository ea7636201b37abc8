// The groups of one target instance, compact enough for millions: a group is one Map entry from
// its id to its last message number (a small integer, stored inline), plus its id in a creation-
// order array for paging. Everything else exists only for groups that use it: the connections in
// a group and its member users are created on the first join or member.

export type CreateResult = 'created' | 'exists' | 'full';
export type AddUserResult = { members: number; added: boolean; full: boolean };

export interface GroupSummary {
  id: string;
  /** Member users (POST /groups/:id/members). */
  members: number;
  /** Connections in the group on this instance (joined, or connected as a member user). */
  connected: number;
}

export class GroupRegistry<C> {
  /** id → number of the group's last message (0 before the first). */
  private readonly seqs = new Map<string, number>();
  private readonly ids: string[] = [];
  private readonly conns = new Map<string, Set<C>>();
  private readonly users = new Map<string, Set<string>>();
  private readonly groupsOfUser = new Map<string, string[]>();
  /** Groups ever created here (creations replayed from other instances included). */
  created = 0;
  /** (group, user) memberships held, at most `maxMembers`. */
  memberships = 0;
  /** (group, connection) entries held: connections in groups, joined or as member users. */
  joins = 0;

  constructor(
    readonly max: number,
    readonly maxMembers: number = Number.MAX_SAFE_INTEGER,
    readonly maxJoins: number = Number.MAX_SAFE_INTEGER,
  ) {}

  get size(): number {
    return this.seqs.size;
  }

  has(id: string): boolean {
    return this.seqs.has(id);
  }

  create(id: string): CreateResult {
    if (this.seqs.has(id)) return 'exists';
    if (this.seqs.size >= this.max) return 'full';
    this.add(id);
    return 'created';
  }

  /**
   * Creates the ids that do not exist yet, all or nothing: when they would not all fit under
   * the limit, none is created and `full` is true. Duplicates and existing ids are skipped.
   */
  createMany(ids: readonly string[]): { created: string[]; full: boolean } {
    const room = this.max - this.seqs.size;
    if (ids.length > room) {
      // Near the limit: count exactly, duplicates within the batch once.
      const fresh = new Set<string>();
      for (const id of ids) if (!this.seqs.has(id)) fresh.add(id);
      if (fresh.size > room) return { created: [], full: true };
    }
    const created: string[] = [];
    for (const id of ids) {
      if (this.seqs.has(id)) continue;
      this.add(id);
      created.push(id);
    }
    return { created, full: false };
  }

  private add(id: string): void {
    this.seqs.set(id, 0);
    this.ids.push(id);
    this.created++;
  }

  /** The groups at [offset, offset + limit) in creation order. */
  list(offset: number, limit: number): GroupSummary[] {
    const out: GroupSummary[] = [];
    const end = Math.min(this.ids.length, offset + limit);
    for (let i = offset; i < end; i++) {
      const id = this.ids[i];
      out.push({ id, members: this.users.get(id)?.size ?? 0, connected: this.conns.get(id)?.size ?? 0 });
    }
    return out;
  }

  /** The number of the group's last message; -1 for an unknown group. */
  seq(id: string): number {
    return this.seqs.get(id) ?? -1;
  }

  /**
   * Records message `seq` of a group as seen; returns how many numbers were skipped since the
   * last one seen here (messages lost on the way), 0 when unknown or in order.
   */
  observe(id: string, seq: number): number {
    const last = this.seqs.get(id);
    if (last === undefined || seq <= last) return 0;
    this.seqs.set(id, seq);
    return last > 0 ? seq - last - 1 : 0;
  }

  /** Adds a connection to a group; returns the connections now in it. */
  join(id: string, c: C): number {
    let set = this.conns.get(id);
    if (!set) this.conns.set(id, (set = new Set()));
    if (!set.has(c)) this.joins++;
    set.add(c);
    return set.size;
  }

  leave(id: string, c: C): void {
    const set = this.conns.get(id);
    if (!set) return;
    if (set.delete(c)) this.joins--;
    // An empty set would cost ~100 bytes per group ever joined: drop it.
    if (set.size === 0) this.conns.delete(id);
  }

  connsOf(id: string): Set<C> | undefined {
    return this.conns.get(id);
  }

  isIn(id: string, c: C): boolean {
    return this.conns.get(id)?.has(c) === true;
  }

  /**
   * Makes a user a member; `added` is false when it was one already, `full` when the registry
   * holds `maxMembers` memberships (nothing is added then).
   */
  addUser(id: string, user: string): AddUserResult {
    let set = this.users.get(id);
    if (set?.has(user)) return { members: set.size, added: false, full: false };
    if (this.memberships >= this.maxMembers) return { members: set?.size ?? 0, added: false, full: true };
    if (!set) this.users.set(id, (set = new Set()));
    set.add(user);
    this.memberships++;
    const gs = this.groupsOfUser.get(user);
    if (gs) gs.push(id);
    else this.groupsOfUser.set(user, [id]);
    return { members: set.size, added: true, full: false };
  }

  /** The groups a user is a member of (undefined when none). */
  groupsOf(user: string): readonly string[] | undefined {
    return this.groupsOfUser.get(user);
  }
}
