/*
 * redis_connect.h - one connection to the Redis the policy names.
 *
 * redis = unix:/PATH and tcp://HOST:PORT connect there. With
 * redis = sentinel://HOST:PORT[,...]/MASTER the Sentinels are asked in
 * turn, starting with the one that answered last, for the address of the
 * master (SENTINEL get-master-addr-by-name); the server there must then
 * say it is a master (ROLE), as the Sentinel client guidelines ask, since a
 * demoted master may still be the address a Sentinel gives for a moment.
 * Then AUTH (redis_password_file) and SELECT (redis_db), as for the others.
 *
 * Every connect and every command is bounded by redis_timeout. Replies
 * from a Sentinel are checked like any other bytes from the network: an
 * address of the master must be a host name or IP address of at most 253
 * bytes and a port from 1 to 65535.
 */
#ifndef SG_REDIS_CONNECT_H
#define SG_REDIS_CONNECT_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "policy.h"

struct sg_redis_error {
    const char *step;       /* "connect", "AUTH", "SELECT", "sentinel"... */
    char detail[200];       /* why, for logs and messages */
};

/*
 * Connect as P says. *NEXT_SENTINEL (kept by the caller between calls, 0
 * at first) is the Sentinel asked first, updated to the one that answered.
 * Returns the connection, or NULL with ERR filled.
 */
redisContext *sg_redis_connect_policy(const struct sg_policy *p, size_t *next_sentinel,
                                      struct sg_redis_error *err);

#endif
