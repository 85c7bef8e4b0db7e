import { WispError } from '../errors.js';
import type { SqliteDatabase } from './database.js';
import { prepareInstanceSave } from './instance-store.js';
import type { GroupRecord, InstanceRecord } from './records.js';

/**
 * Groups, written together with their members so a group never changes half-way.
 * Implementations: embedded SQLite (below) and Redis (redis-group-store.ts).
 */
export interface GroupStore {
  /** Saves the group and every member record as one write: all of it is stored, or none. */
  save(group: GroupRecord, members: InstanceRecord[]): Promise<void>;
  /** Deletes the group and its member records as one write. */
  delete(name: string, memberIds: string[]): Promise<void>;
  /** In the order they were created. */
  list(): Promise<GroupRecord[]>;
  get(name: string): Promise<GroupRecord | undefined>;
  /**
   * Makes `to` the group's home (the node that manages it) if `from` still is (a compare-and-set:
   * of nodes taking over one group, one wins); yields the group as now stored, or undefined. A
   * save by a node that is no longer the home is refused from then on (STALE_OWNER).
   */
  claimHome(name: string, from: string, to: string): Promise<GroupRecord | undefined>;
  /**
   * Holds `name` for a group `home` is about to create, so that of two nodes creating one name at
   * once, one goes on; false when a group of that name exists or is being created.
   */
  reserveName(name: string, home: string): Promise<boolean>;
  /** Lets go of a name held by reserveName whose group was not created. */
  releaseName(name: string, home: string): Promise<void>;
}

export class SqliteGroupStore implements GroupStore {
  readonly #save;
  readonly #delete;
  readonly #list;
  readonly #get;
  readonly #setRecord;
  /** Names held for groups being created (reserveName). */
  readonly #held = new Set<string>();

  constructor(db: SqliteDatabase) {
    const saveGroup = db.prepare('INSERT INTO groups (name, record) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET record = excluded.record');
    const saveMember = prepareInstanceSave(db);
    const deleteGroup = db.prepare('DELETE FROM groups WHERE name = ?');
    const deleteMember = db.prepare('DELETE FROM instances WHERE id = ?');
    const getGroup = db.prepare('SELECT record FROM groups WHERE name = ?');
    this.#save = db.transaction((group: GroupRecord, members: InstanceRecord[]) => {
      const stored = getGroup.get(group.name) as { record: string } | undefined;
      const home = stored ? (JSON.parse(stored.record) as GroupRecord).node : undefined;
      if (home && home !== group.node) throw new WispError('STALE_OWNER', `group "${group.name}" is managed by another node now; this node's write was refused`);
      saveGroup.run(group.name, JSON.stringify(group));
      for (const member of members) saveMember(member);
    });
    this.#delete = db.transaction((name: string, memberIds: string[]) => {
      deleteGroup.run(name);
      for (const id of memberIds) deleteMember.run(id);
    });
    this.#list = db.prepare('SELECT record FROM groups ORDER BY rowid');
    this.#get = getGroup;
    this.#setRecord = saveGroup;
  }

  async save(group: GroupRecord, members: InstanceRecord[]): Promise<void> {
    this.#save(group, members);
    this.#held.delete(group.name);
  }

  async delete(name: string, memberIds: string[]): Promise<void> {
    this.#delete(name, memberIds);
  }

  async list(): Promise<GroupRecord[]> {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as GroupRecord);
  }

  async get(name: string): Promise<GroupRecord | undefined> {
    return this.#read(name);
  }

  #read(name: string): GroupRecord | undefined {
    const row = this.#get.get(name) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as GroupRecord) : undefined;
  }

  // One process owns an embedded store: names being created are held in memory.
  async reserveName(name: string): Promise<boolean> {
    if (this.#held.has(name) || this.#get.get(name) !== undefined) return false;
    this.#held.add(name);
    return true;
  }

  async releaseName(name: string): Promise<void> {
    this.#held.delete(name);
  }

  // One process owns an embedded store: a claim needs no script, only the check.
  async claimHome(name: string, from: string, to: string): Promise<GroupRecord | undefined> {
    // Read and written in one turn, with nothing awaited between: of two claims, one wins.
    const group = this.#read(name);
    if (!group || (group.node ?? '') !== from) return undefined;
    group.node = to;
    this.#setRecord.run(name, JSON.stringify(group));
    return group;
  }
}
