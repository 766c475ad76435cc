// Package connlimit keeps every door open under load: it caps a door's
// connections in total and per client network (a /24 for IPv4, a /56 for
// IPv6, as smart lockout counts them), refusing the excess client politely
// in the door's own protocol; it keeps accept errors (EMFILE, ENFILE,
// ENOBUFS...) from stopping a door, backing off as net/http's Server does
// (5 ms doubling to 1 s) and counting them; and it gives each connection an
// optional whole-session deadline that no read or write deadline the door
// sets can pass, which the door lifts once the client has signed in.
//
// A Limiter holds one door's counts (a door may listen on several sockets,
// e.g. submission on 587 and 465); Listen wraps each socket.
package connlimit
