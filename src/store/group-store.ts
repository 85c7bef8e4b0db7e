import type { SqliteDatabase } from './database.js';
import { prepareInstanceSave } from './instance-store.js';
import type { GroupRecord, InstanceRecord } from './records.js';

/** Groups, written together with their members so a group never changes half-way. */
export interface GroupStore {
  /** Saves the group and every member record in one transaction. */
  save(group: GroupRecord, members: InstanceRecord[]): void;
  /** Deletes the group and its member records in one transaction. */
  delete(name: string, memberIds: string[]): void;
  list(): GroupRecord[];
}

export class SqliteGroupStore implements GroupStore {
  readonly #save;
  readonly #delete;
  readonly #list;

  constructor(db: SqliteDatabase) {
    const saveGroup = db.prepare('INSERT OR REPLACE INTO groups (name, record) VALUES (?, ?)');
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

  save(group: GroupRecord, members: InstanceRecord[]): void {
    this.#save(group, members);
  }

  delete(name: string, memberIds: string[]): void {
    this.#delete(name, memberIds);
  }

  list(): GroupRecord[] {
    return (this.#list.all() as { record: string }[]).map((row) => JSON.parse(row.record) as GroupRecord);
  }
}
