// Groups in Redis: a hash under `group:NAME` (`record`, the JSON), ordered by creation in
// `groups`. A group and its members are written, or deleted, by one script: all or nothing.
import type { Redis } from 'ioredis';
import type { GroupStore } from './group-store.js';
import type { GroupRecord, InstanceRecord } from './records.js';
import { INSTANCE_ARGC, instanceArgs, WRITE_INSTANCE } from './redis-instance-store.js';
import { RECORDS_IN_ORDER } from './redis-records-in-order.js';

// ARGV: name, record, then per member its INSTANCE_ARGC instance arguments.
const SAVE = `${WRITE_INSTANCE}
for o = 3, #ARGV, ${INSTANCE_ARGC} do
  if not nameFree(o) then return redis.error_reply('member name ' .. ARGV[o + 2] .. ' of ' .. ARGV[o + 1] .. ' belongs to another instance') end
end
local key = p .. 'group:' .. ARGV[1]
if redis.call('EXISTS', key) == 0 then
  redis.call('ZADD', p .. 'groups', redis.call('INCR', p .. 'groups:seq'), ARGV[1])
end
redis.call('HSET', key, 'record', ARGV[2])
for o = 3, #ARGV, ${INSTANCE_ARGC} do writeInstance(o) end
return 1`;

// ARGV: name, then the member ids.
const DELETE = `${WRITE_INSTANCE}
redis.call('DEL', p .. 'group:' .. ARGV[1])
redis.call('ZREM', p .. 'groups', ARGV[1])
for i = 2, #ARGV do deleteInstance(ARGV[i]) end
return 1`;

export class RedisGroupStore implements GroupStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  /** Keys start with `prefix`, as for the instance store this one writes members with. */
  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async save(group: GroupRecord, members: InstanceRecord[]): Promise<void> {
    await this.#redis.eval(SAVE, 1, this.#prefix, group.name, JSON.stringify(group), ...members.flatMap(instanceArgs));
  }

  async delete(name: string, memberIds: string[]): Promise<void> {
    await this.#redis.eval(DELETE, 1, this.#prefix, name, ...memberIds);
  }

  async list(): Promise<GroupRecord[]> {
    const texts = (await this.#redis.eval(RECORDS_IN_ORDER, 1, this.#prefix, 'groups', 'group:')) as string[];
    return texts.map((text) => JSON.parse(text) as GroupRecord);
  }
}
