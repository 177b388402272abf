/* Everyday hiredis (Debian's libhiredis-dev 0.14) usage against a server on 127.0.0.1:<port>. */
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check(const char *what, int ok) {
    if (!ok) { fprintf(stderr, "%s failed\n", what); exit(1); }
    printf("ok %s\n", what);
}

static redisReply *cmd(redisContext *c, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    redisReply *r = redisvCommand(c, format, ap);
    va_end(ap);
    if (r == NULL) { fprintf(stderr, "connection error: %s\n", c->errstr); exit(1); }
    return r;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    redisContext *c = redisConnect("127.0.0.1", atoi(argv[1]));
    if (c == NULL || c->err) { fprintf(stderr, "cannot connect\n"); return 1; }
    freeReplyObject(cmd(c, "FLUSHDB"));
    redisReply *r = cmd(c, "SET c:s %s", "v");
    int ok = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
    freeReplyObject(r);
    r = cmd(c, "GET c:s");
    ok = ok && r->type == REDIS_REPLY_STRING && strcmp(r->str, "v") == 0;
    freeReplyObject(r);
    r = cmd(c, "INCRBY c:n 5");
    check("strings", ok && r->type == REDIS_REPLY_INTEGER && r->integer == 5);
    freeReplyObject(r);
    freeReplyObject(cmd(c, "HSET c:h a 1 b 2"));
    r = cmd(c, "HGETALL c:h");
    check("hash", r->type == REDIS_REPLY_ARRAY && r->elements == 4);
    freeReplyObject(r);
    redisAppendCommand(c, "SET c:p1 1");
    redisAppendCommand(c, "SET c:p2 2");
    redisAppendCommand(c, "MGET c:p1 c:p2");
    void *reply;
    redisGetReply(c, &reply); freeReplyObject(reply);
    redisGetReply(c, &reply); freeReplyObject(reply);
    redisGetReply(c, &reply);
    r = reply;
    check("pipeline", r->type == REDIS_REPLY_ARRAY && r->elements == 2 && strcmp(r->element[1]->str, "2") == 0);
    freeReplyObject(r);
    freeReplyObject(cmd(c, "MULTI"));
    freeReplyObject(cmd(c, "SET c:t x"));
    freeReplyObject(cmd(c, "INCR c:tn"));
    r = cmd(c, "EXEC");
    check("transaction", r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->integer == 1);
    freeReplyObject(r);
    redisContext *sub = redisConnect("127.0.0.1", atoi(argv[1]));
    freeReplyObject(cmd(sub, "SUBSCRIBE c:ch"));
    freeReplyObject(cmd(c, "PUBLISH c:ch hello"));
    redisGetReply(sub, &reply);
    r = reply;
    check("pubsub", r->type == REDIS_REPLY_ARRAY && r->elements == 3 && strcmp(r->element[2]->str, "hello") == 0);
    freeReplyObject(r);
    redisFree(sub);
    r = cmd(c, "EVAL %s 1 c:s", "return redis.call('get', KEYS[1])");
    check("script", r->type == REDIS_REPLY_STRING && strcmp(r->str, "v") == 0);
    freeReplyObject(r);
    for (int i = 0; i < 300; i++) freeReplyObject(cmd(c, "SET c:scan:%d v", i));
    char cursor[32] = "0";
    int seen = 0;
    do {
        r = cmd(c, "SCAN %s MATCH c:scan:* COUNT 7", cursor);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        seen += (int)r->element[1]->elements;  /* Lode returns each key once when nothing changes */
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    check("scan", seen >= 300);
    freeReplyObject(cmd(c, "SET c:e v PX 50"));
    r = cmd(c, "PTTL c:e");
    long long ttl = r->integer;
    freeReplyObject(r);
    usleep(120000);
    r = cmd(c, "GET c:e");
    check("expiry", ttl > 0 && r->type == REDIS_REPLY_NIL);
    freeReplyObject(r);
    r = cmd(c, "LPUSH c:s x");
    check("wrongtype", r->type == REDIS_REPLY_ERROR
          && strncmp(r->str, "WRONGTYPE Operation against a key holding the wrong kind of value", 65) == 0);
    freeReplyObject(r);
    redisFree(c);
    return 0;
}
