<?php
// Everyday phpredis (Debian's php-redis 5.3) usage against a server on 127.0.0.1:<port>.
function check($what, $ok) { if (!$ok) { fwrite(STDERR, "$what failed\n"); exit(1); } echo "ok $what\n"; }

$port = (int)$argv[1];
$r = new Redis();
$r->connect("127.0.0.1", $port);
$r->flushDB();
check("strings", $r->set("php:s", "v") === true && $r->get("php:s") === "v" && $r->incrBy("php:n", 5) === 5);
$r->hMSet("php:h", ["a" => "1", "b" => "2"]);
check("hash", $r->hGetAll("php:h") == ["a" => "1", "b" => "2"]);  // == : the same pairs in any order
$replies = $r->pipeline()->set("php:p1", "1")->set("php:p2", "2")->mget(["php:p1", "php:p2"])->exec();
check("pipeline", $replies === [true, true, ["1", "2"]]);
$tx = $r->multi()->set("php:t", "x")->incr("php:tn")->get("php:t")->exec();
check("transaction", $tx === [true, 1, "x"]);
$s = new Redis();
$s->connect("127.0.0.1", $port);
$pid = pcntl_fork();
if ($pid === 0) {
    usleep(200000);
    $p = new Redis();
    $p->connect("127.0.0.1", $port);
    $p->publish("php:ch", "hello");
    exit(0);
}
$received = null;
try {
    // phpredis leaves its subscribe loop when the callback closes the connection.
    $s->subscribe(["php:ch"], function ($redis, $channel, $message) use (&$received) {
        $received = $message;
        $redis->close();
    });
} catch (RedisException $e) {
}
pcntl_waitpid($pid, $status);
check("pubsub", $received === "hello");
check("script", $r->eval("return redis.call('get', KEYS[1])", ["php:s"], 1) === "v");
for ($i = 0; $i < 300; $i++) { $r->set("php:scan:$i", "v"); }
$r->setOption(Redis::OPT_SCAN, Redis::SCAN_RETRY);
$seen = [];
$it = null;
while (($keys = $r->scan($it, "php:scan:*", 7)) !== false) { foreach ($keys as $k) { $seen[$k] = true; } }
check("scan", count($seen) === 300);
$r->set("php:e", "v", ["px" => 50]);
$ttl = $r->pttl("php:e");
usleep(120000);
check("expiry", $ttl > 0 && $r->get("php:e") === false);
try {
    $r->lPush("php:s", "x");
    check("wrongtype", str_starts_with($r->getLastError() ?? "", "WRONGTYPE Operation against a key holding the wrong kind of value"));
} catch (RedisException $e) {
    check("wrongtype", str_starts_with($e->getMessage(), "WRONGTYPE"));
}
