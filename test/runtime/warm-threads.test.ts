// The warm pool of instance threads: how many it keeps of each heap size follows how many were
// taken lately, within its cap; boots run one after another; a falling rate gives threads back.
// Threads here are stand-ins that boot when the test says so, so every count is exact.
import t from 'tap';
import { WarmThreads } from '../../dist/runtime/warm-threads.js';
import type { InstanceThread } from '../../dist/runtime/instance-thread.js';

interface FakeThread {
  memoryMb: number;
  alive: boolean;
  booted: Promise<void>;
  boot(): void;
  terminate(): Promise<void>;
}

function harness(maxThreads: number, quietMs = 0) {
  const booted: FakeThread[] = [];
  let now = 0;
  const pool = new WarmThreads({
    maxThreads,
    quietMs,
    now: () => now,
    boot: (memoryMb) => {
      let boot = () => {};
      const thread: FakeThread = {
        memoryMb,
        alive: true,
        booted: new Promise<void>((resolve) => (boot = resolve)),
        boot: () => boot(),
        terminate: async () => {
          thread.alive = false;
        },
      };
      booted.push(thread);
      return thread as unknown as InstanceThread;
    },
  });
  // Past the (zero) quiet timer and the boot's promise.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1));
  /** Lets every boot under way finish, and those they lead to, until no new one starts. */
  const bootAll = async () => {
    for (let seen = -1; seen !== booted.length; ) {
      seen = booted.length;
      for (const thread of booted) thread.boot();
      await settle();
      await settle();
    }
  };
  return { pool, booted, bootAll, settle, advance: (ms: number) => (now += ms) };
}

t.test('a quiet node keeps one booted thread per size, and a create takes it', async (t) => {
  const { pool, booted, bootAll } = harness(16);
  t.teardown(() => pool.close());
  const first = pool.take(64);
  t.equal(booted.length, 1, 'nothing kept yet: the first create boots its own');
  pool.refill(64);
  await bootAll();
  t.equal(pool.kept().get(64), 1, 'one taken lately: one kept');
  const second = pool.take(64);
  t.not(second, first);
  t.equal(second, booted[1] as unknown as InstanceThread, 'the kept thread is the one handed out');
  t.equal(booted.length, 2, 'and no thread booted for it');
});

t.test('after a burst the pool keeps as many as were taken lately, booting them one at a time', async (t) => {
  const { pool, booted, bootAll, settle } = harness(16);
  t.teardown(() => pool.close());
  for (let i = 0; i < 10; i++) pool.take(64);
  t.equal(booted.length, 10);
  pool.refill(64);
  await settle();
  t.equal(booted.length, 11, 'one boot at a time: the next waits for this one');
  await settle();
  t.equal(booted.length, 11, 'still one while it boots');
  await bootAll();
  t.equal(pool.kept().get(64), 10, 'ten taken in the window: ten kept');
  const before = booted.length;
  for (let i = 0; i < 10; i++) pool.take(64);
  t.equal(booted.length, before, 'the next burst of ten boots nothing while it runs');
});

t.test('the cap holds over all sizes, and only the two sizes asked for last keep threads', async (t) => {
  const { pool, booted, bootAll } = harness(6);
  t.teardown(() => pool.close());
  for (let i = 0; i < 8; i++) pool.take(64);
  for (let i = 0; i < 4; i++) pool.take(128);
  pool.refill(128);
  await bootAll();
  const kept = pool.kept();
  t.ok(kept.get(64)! + kept.get(128)! <= 6, `at most 6 kept: ${[...kept]}`);
  t.ok(kept.get(128)! >= 1 && kept.get(64)! >= 1, 'each size keeps at least one');
  // 128 was asked for last (its refill): 64 is the oldest.
  pool.take(256);
  t.same([...pool.kept().keys()].sort(), [128, 256], 'the size asked for least recently gave its threads up');
  const keptFor64 = booted.slice(12).filter((x) => x.memoryMb === 64);
  t.ok(keptFor64.length > 0 && keptFor64.every((x) => !x.alive), 'and they were stopped');
});

t.test('when the rate falls the threads above it are stopped', async (t) => {
  const { pool, booted, bootAll, advance } = harness(16);
  t.teardown(() => pool.close());
  for (let i = 0; i < 5; i++) pool.take(64);
  pool.refill(64);
  await bootAll();
  t.equal(pool.kept().get(64), 5);
  advance(60_000);
  pool.trim();
  t.equal(pool.kept().get(64), 1, 'none taken in the window: one kept');
  t.equal(booted.filter((x) => x.alive).length, 6, 'the five taken and the one kept run; four were stopped');
});

t.test('a thread that died while kept is not handed out', async (t) => {
  const { pool, booted, bootAll } = harness(16);
  t.teardown(() => pool.close());
  pool.take(64);
  pool.refill(64);
  await bootAll();
  booted[1]!.alive = false;
  const taken = pool.take(64);
  t.equal(taken, booted[2] as unknown as InstanceThread, 'a new one instead');
});

t.test('warmThreads 0 keeps none', async (t) => {
  const { pool, booted, settle } = harness(0);
  t.teardown(() => pool.close());
  pool.take(64);
  pool.refill(64);
  await settle();
  t.equal(booted.length, 1, 'only the thread the create asked for');
});

t.test('close stops every kept thread and keeps none after', async (t) => {
  const { pool, booted, bootAll, settle } = harness(16);
  pool.take(64);
  pool.refill(64);
  await bootAll();
  await pool.close();
  t.ok(booted.every((x) => x === booted[0] || !x.alive), 'kept threads stopped');
  pool.refill(64);
  await settle();
  t.equal(booted.length, 2, 'no boot after close');
});

t.test('replacements boot only once creates pause, not beside them', async (t) => {
  const { pool, booted, bootAll } = harness(16, 20);
  t.teardown(() => pool.close());
  // Three kept: replacements for the next creates can wait for a pause.
  for (let i = 0; i < 3; i++) pool.take(64);
  pool.refill(64);
  await bootAll();
  t.equal(pool.kept().get(64), 3);
  const before = booted.length;
  for (let i = 0; i < 2; i++) {
    pool.take(64);
    pool.refill(64);
  }
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(booted.length, before, 'two creates served by kept threads, no replacement booted beside them');
  while (booted.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
  t.equal(booted.length, before + 1, 'once they paused, the first replacement boots, alone');
  await bootAll();
  t.equal(pool.kept().get(64), 5, 'and the rest after it: five taken in the window');
});

t.test('a size with no thread left gets one at once, pause or not', async (t) => {
  const { pool, booted, settle } = harness(16, 60_000);
  t.teardown(() => pool.close());
  pool.take(64);
  pool.refill(64);
  await settle();
  t.equal(booted.length, 2, 'the create took the only one: its replacement boots without waiting');
});
