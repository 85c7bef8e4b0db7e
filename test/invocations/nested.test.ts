// ctx.invoke(name, input): nested calls record their parent, the call tree can be read back,
// nesting twice as deep as the pool has threads does not deadlock, and too deep is an error.
import t from 'tap';
import { mustSubmit, waitFinal } from '../helpers/invocations.js';
import { invoke, mustDeploy, startWisp } from '../helpers/wisp.js';
import { tempDir } from '../helpers/temp-dir.js';

interface Tree {
  id: string;
  function: string;
  status: string;
  mode: string;
  parentId: string | null;
  result: unknown;
  children: Tree[];
}

const fanout = `export default async (n: number, ctx: { invoke(name: string, input: unknown): Promise<unknown> }) => {
  const [a, b] = await Promise.all([ctx.invoke("leaf", n), ctx.invoke("leaf", n + 1)]);
  return { sum: (a as number) + (b as number) };
};`;

t.test('a synchronous call tree: parent and children, with results', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'leaf', 'export default (n: number) => n * 10;');
  await mustDeploy(t, app, 'fanout', fanout);
  const res = await invoke(app, 'fanout', 1);
  t.same(res.json(), { sum: 30 });
  const root = res.headers['x-invocation-id'] as string;
  const tree: Tree = (await app.inject(`/v1/invocations/${root}/tree`)).json();
  t.equal(tree.id, root);
  t.equal(tree.mode, 'sync');
  t.equal(tree.children.length, 2);
  for (const child of tree.children) {
    t.equal(child.parentId, root);
    t.equal(child.function, 'leaf');
    t.equal(child.mode, 'nested');
    t.same(child.children, []);
  }
  t.same(tree.children.map((c) => c.result).sort(), [10, 20]);
  const child = (await app.inject(`/v1/invocations/${tree.children[0]!.id}`)).json();
  t.equal(child.parentId, root, 'a child can be read on its own');
});

t.test('an asynchronous call tree is kept durably, across a restart', async (t) => {
  const dir = `${tempDir()}/data`;
  const before = await startWisp(t, {}, dir);
  await mustDeploy(t, before, 'leaf', 'export default (n: number) => n * 10;');
  await mustDeploy(t, before, 'fanout', fanout);
  const root = await mustSubmit(t, before, 'fanout', 2);
  t.same((await waitFinal(before, root)).result, { sum: 50 });
  await before.close();
  const after = await startWisp(t, {}, dir);
  const tree: Tree = (await after.inject(`/v1/invocations/${root}/tree`)).json();
  t.equal(tree.mode, 'async');
  t.same(tree.children.map((c) => c.result).sort(), [20, 30]);
});

t.test('a child that throws rejects ctx.invoke with its code and message', async (t) => {
  const app = await startWisp(t);
  await mustDeploy(t, app, 'bad', 'export default () => { throw new Error("child broke"); };');
  await mustDeploy(
    t,
    app,
    'parent',
    'export default async (_: unknown, ctx: { invoke(n: string): Promise<unknown> }) => { try { await ctx.invoke("bad"); } catch (err) { return { code: (err as { code: string }).code, message: (err as Error).message }; } };',
  );
  const res = await invoke(app, 'parent');
  t.equal(res.json().code, 'FUNCTION_ERROR');
  t.match(res.json().message, 'child broke');
  const missing = await mustDeploy(t, app, 'caller', 'export default async (_: unknown, ctx: { invoke(n: string): Promise<unknown> }) => ctx.invoke("nope").catch((err: { code: string }) => err.code);');
  t.ok(missing);
  t.equal((await invoke(app, 'caller')).body, '"FUNCTION_NOT_FOUND"');
});

const recurse = `export default async (depth: number, ctx: { invoke(name: string, input: unknown): Promise<unknown> }) =>
  depth === 0 ? "bottom" : { depth, below: await ctx.invoke("recurse", depth - 1) };`;

t.test('nesting twice as deep as the pool has threads completes', async (t) => {
  // Two threads per tier, each taking two tasks: a single tier would deadlock at depth 4.
  const app = await startWisp(t, { pool: { maxThreads: 2 } });
  await mustDeploy(t, app, 'recurse', `export const config = { timeoutMs: 20000 };\n${recurse}`);
  // Two of these at once: eight calls waiting on each other, against four slots per tier.
  const [a, b] = await Promise.all([invoke(app, 'recurse', 4), invoke(app, 'recurse', 4)]);
  for (const res of [a, b]) {
    t.equal(res.statusCode, 200, res.body);
    let node = res.json();
    let depth = 4;
    while (node !== 'bottom') {
      t.equal(node.depth, depth--);
      node = node.below;
    }
    t.equal(depth, 0);
  }
  let tree: Tree = (await app.inject(`/v1/invocations/${a.headers['x-invocation-id']}/tree`)).json();
  let levels = 1;
  while (tree.children.length === 1) {
    tree = tree.children[0]!;
    levels++;
  }
  t.equal(levels, 5, 'the tree holds the whole chain');
});

t.test('nesting past invocations.maxDepth fails with NESTING_TOO_DEEP', async (t) => {
  const app = await startWisp(t, { invocations: { maxDepth: 3 } as never });
  await mustDeploy(t, app, 'recurse', recurse);
  t.equal((await invoke(app, 'recurse', 3)).statusCode, 200, 'three deep is allowed');
  const res = await invoke(app, 'recurse', 4);
  t.equal(res.statusCode, 500);
  t.match(res.json().error.message, /nest at most 3 deep/);
});
