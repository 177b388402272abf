# Everyday Redis.pm (Debian's libredis-perl 2.000) usage against a server on 127.0.0.1:<port>.
use strict;
use warnings;
use Redis;
use Time::HiRes qw(sleep);

my $port = shift or die "usage: perl_redis.pl PORT\n";
my $r = Redis->new(server => "127.0.0.1:$port", reconnect => 0);
sub check { my ($what, $ok) = @_; die "$what failed\n" unless $ok; print "ok $what\n"; }

$r->flushdb;
check("strings", $r->set("pl:s", "v") eq "OK" && $r->get("pl:s") eq "v" && $r->incrby("pl:n", 5) == 5);
$r->hset("pl:h", "a", "1", "b", "2");
my %h = $r->hgetall("pl:h");
check("hash", $h{a} eq "1" && $h{b} eq "2" && keys(%h) == 2);
my @replies;
$r->set("pl:p1", "1", sub { push @replies, $_[0] });
$r->set("pl:p2", "2", sub { push @replies, $_[0] });
$r->mget("pl:p1", "pl:p2", sub { push @replies, $_[0] });
$r->wait_all_responses;
check("pipeline", @replies == 3 && $replies[2][0] eq "1" && $replies[2][1] eq "2");
$r->multi;
$r->set("pl:t", "x");
$r->incr("pl:tn");
my @tx = $r->exec;
check("transaction", $tx[0] eq "OK" && $tx[1] == 1);
my $sub = Redis->new(server => "127.0.0.1:$port");
my $received;
$sub->subscribe("pl:ch", sub { $received = $_[0] });
$r->publish("pl:ch", "hello");
$sub->wait_for_messages(2) until defined $received;
check("pubsub", $received eq "hello");
check("script", $r->eval("return redis.call('get', KEYS[1])", 1, "pl:s") eq "v");
$r->set("pl:scan:$_", "v") for 0 .. 299;
my ($cursor, %seen) = (0);
do {
    my ($next, $keys) = $r->scan($cursor, "MATCH", "pl:scan:*", "COUNT", 7);
    $seen{$_} = 1 for @$keys;
    $cursor = $next;
} while ($cursor ne "0");
check("scan", keys(%seen) == 300);
$r->set("pl:e", "v", "PX", 50);
my $ttl = $r->pttl("pl:e");
sleep(0.12);
check("expiry", $ttl > 0 && !defined $r->get("pl:e"));
eval { $r->lpush("pl:s", "x") };
check("wrongtype", $@ =~ /WRONGTYPE Operation against a key holding the wrong kind of value/);
