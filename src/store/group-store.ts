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
}

export class SqliteGroupStore implements GroupStore {
  readonly #save;
  readonly #delete;
  readonly #list;

  constructor(db: SqliteDatabase) {
    const saveGroup = db.prepare('INSERT INTO groups (name, record) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET record = excluded.record');
    const saveMember = prepareInstanceSave(db);
    const deleteGroup = db.prepare('DELETE FROM groups WHERE name = ?');
    const deleteMember = db.prepare('DELETE FROM instances WHERE id = ?');
    this.#save = db.transaction((group: GroupRecord, members: InstanceRecord[]) => {
      saveGroup.run(group.name, JSON.stringify(group));
      for (const member of members) saveMember(member);
    });
    this.#delete = db.transaction((name: string, memberIds: string[]) => {
      deleteGroup.run(name);
      for (const id of memberIds) deleteMember.run(id);
    });
    this.#list = db.prepare('SELECT record FROM groups ORDER BY rowid');
  }

  async save(group: GroupRecord, members: InstanceRecord[]): Promise<void> {
    this.#save(group, members);
  }

  async delete(name: string, memberIds: string[]): Promise<void> {
    this.#delete(name, memberIds);
  }

  async list(): Promise<GroupRecord[]> {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as GroupRecord);
  }
}
