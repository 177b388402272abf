# Everyday redis-rb (Debian's ruby-redis 4.8) usage against a server on 127.0.0.1:<port>.
require "redis"

def check(what)
  raise "#{what} failed" unless yield
  puts "ok #{what}"
end

port = Integer(ARGV[0])
r = Redis.new(host: "127.0.0.1", port: port)
r.flushdb
check("strings") { r.set("rb:s", "v") == "OK" && r.get("rb:s") == "v" && r.incrby("rb:n", 5) == 5 }
check("hash") { r.hset("rb:h", "a", "1", "b", "2") && r.hgetall("rb:h") == { "a" => "1", "b" => "2" } }
check("pipeline") do
  replies = r.pipelined { |p| p.set("rb:p1", "1"); p.set("rb:p2", "2"); p.mget("rb:p1", "rb:p2") }
  replies == ["OK", "OK", ["1", "2"]]
end
check("transaction") do
  r.multi { |m| m.set("rb:t", "x"); m.incr("rb:tn"); m.get("rb:t") } == ["OK", 1, "x"]
end
check("pubsub") do
  received = nil
  subscriber = Thread.new do
    Redis.new(host: "127.0.0.1", port: port).subscribe_with_timeout(5, "rb:ch") do |on|
      on.message { |_channel, message| received = message; throw :done } rescue nil
    end rescue nil
  end
  sleep 0.1 until r.pubsub("numsub", "rb:ch")[1].to_i == 1
  r.publish("rb:ch", "hello")
  subscriber.join(5)
  received == "hello"
end
check("script") { r.eval("return redis.call('get', KEYS[1])", keys: ["rb:s"]) == "v" }
check("scan") do
  300.times { |i| r.set("rb:scan:#{i}", "v") }
  r.scan_each(match: "rb:scan:*", count: 7).to_a.uniq.size == 300
end
check("expiry") do
  r.set("rb:e", "v", px: 50)
  ttl = r.pttl("rb:e")
  sleep 0.12
  ttl > 0 && r.get("rb:e").nil?
end
check("wrongtype") do
  begin
    r.lpush("rb:s", "x")
    false
  rescue Redis::CommandError => e
    e.message.start_with?("WRONGTYPE Operation against a key holding the wrong kind of value")
  end
end
