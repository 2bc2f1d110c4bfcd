import { lower, type Clock } from './tenantShapes';

export type Relation = 'members' | 'owners';

/** One change of a group's members or owners, kept so that reads from the lagging index can undo it. */
interface RelationChange {
  at: number;
  relation: Relation;
  groupId: string;
  objectId: string;
  op: 'add' | 'remove';
}

/** Changes older than this (or than the index lag, when longer) are visible to every read and are dropped. */
const MIN_CHANGE_RETENTION_MS = 60_000;

/**
 * What the advanced-query index has not seen yet: recent membership and ownership changes, oldest first, and
 * when users were created by this simulator (seeded users have always existed).
 */
export class RelationLog {
  private readonly changes: RelationChange[] = [];
  private readonly userCreatedAt = new Map<string, number>();

  /**
   * @param now the simulator's clock
   * @param indexLagMs how far the advanced-query index trails the directory (read on every change, to prune the log)
   */
  constructor(
    private readonly now: Clock,
    private readonly indexLagMs: () => number,
  ) {}

  /** Notes that a user was created now. */
  userCreated(userId: string): void {
    this.userCreatedAt.set(userId, this.now());
  }

  /** False for users created after `asOf` (the index has not seen them yet). */
  existedAt(objectId: string, asOf: number | undefined): boolean {
    if (asOf === undefined) return true;
    const created = this.userCreatedAt.get(lower(objectId));
    return created === undefined || created <= asOf;
  }

  /** Records a change now and drops the changes every read sees already. */
  record(relation: Relation, groupId: string, objectId: string, op: 'add' | 'remove'): void {
    const at = this.now();
    this.changes.push({ at, relation, groupId: lower(groupId), objectId: lower(objectId), op });
    const horizon = at - Math.max(this.indexLagMs(), MIN_CHANGE_RETENTION_MS);
    let drop = 0;
    while (drop < this.changes.length && this.changes[drop].at < horizon) drop += 1;
    if (drop > 0) this.changes.splice(0, drop);
  }

  /** The group's current `ids` as they were at `asOf`: later changes undone, users created later left out. */
  asOf(relation: Relation, groupId: string, current: string[], asOf: number): string[] {
    const key = lower(groupId);
    const ids = [...current];
    for (let i = this.changes.length - 1; i >= 0 && this.changes[i].at > asOf; i -= 1) {
      const c = this.changes[i];
      if (c.relation !== relation || c.groupId !== key) continue;
      const at = ids.indexOf(c.objectId);
      if (c.op === 'add' && at >= 0) ids.splice(at, 1);
      else if (c.op === 'remove' && at < 0) ids.push(c.objectId);
    }
    return ids.filter((id) => this.existedAt(id, asOf));
  }
}
