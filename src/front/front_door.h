/* Before the greeting, in the front only: who is really there (the PROXY
 * header listen ... proxy_protocol requires, believed from the peers of
 * set_real_ip_from) and whether they may come in (allow, deny). */
#ifndef POSTERN_FRONT_DOOR_H
#define POSTERN_FRONT_DOOR_H

struct session;

/* 0: go on to the greeting, with s's client set. -1: the session is over;
 * the client was told what the protocol says (if anything) and
 * session_end() has the reason. */
int front_door(struct session *s);

#endif
