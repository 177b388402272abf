// Everyday node-redis 4 (Debian's node-redis) usage against a server on 127.0.0.1:<port>.
const { createClient } = require('redis');
const assert = require('assert');

async function main() {
  const port = Number(process.argv[2]);
  const c = createClient({ socket: { host: '127.0.0.1', port } });
  await c.connect();
  await c.flushDb();
  assert.strictEqual(await c.set('node:s', 'v'), 'OK');
  assert.strictEqual(await c.get('node:s'), 'v');
  assert.strictEqual(await c.incrBy('node:n', 5), 5);
  console.log('ok strings');
  await c.hSet('node:h', { a: '1', b: '2' });
  assert.deepStrictEqual({ ...(await c.hGetAll('node:h')) }, { a: '1', b: '2' });
  console.log('ok hash');
  const replies = await Promise.all([c.set('node:p1', '1'), c.set('node:p2', '2'), c.mGet(['node:p1', 'node:p2'])]);
  assert.deepStrictEqual(replies[2], ['1', '2']);
  console.log('ok pipeline');
  const tx = await c.multi().set('node:t', 'x').incr('node:tn').get('node:t').exec();
  assert.deepStrictEqual(tx, ['OK', 1, 'x']);
  console.log('ok transaction');
  const sub = c.duplicate();
  await sub.connect();
  let deliver;
  const message = new Promise((resolve) => { deliver = resolve; });
  await sub.subscribe('node:ch', (m) => deliver(m));   // resolves once subscribed
  assert.strictEqual(await c.publish('node:ch', 'hello'), 1);
  assert.strictEqual(await message, 'hello');
  await sub.quit();
  console.log('ok pubsub');
  assert.strictEqual(await c.eval("return redis.call('get', KEYS[1])", { keys: ['node:s'] }), 'v');
  console.log('ok script');
  for (let i = 0; i < 300; i++) await c.set(`node:scan:${i}`, 'v');
  const seen = new Set();
  for await (const key of c.scanIterator({ MATCH: 'node:scan:*', COUNT: 7 })) seen.add(key);
  assert.strictEqual(seen.size, 300);
  console.log('ok scan');
  await c.set('node:e', 'v', { PX: 50 });
  assert.ok((await c.pTTL('node:e')) > 0);
  await new Promise((r) => setTimeout(r, 120));
  assert.strictEqual(await c.get('node:e'), null);
  console.log('ok expiry');
  try {
    await c.lPush('node:s', 'x');
    assert.fail('no error');
  } catch (e) {
    assert.ok(e.message.startsWith('WRONGTYPE Operation against a key holding the wrong kind of value'), e.message);
  }
  console.log('ok wrongtype');
  await c.quit();
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
