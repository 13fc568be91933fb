// Package conformance holds regression tests of behaviours Pipy 0.30's
// tutorials teach (load balancing, per-connection stickiness, connection
// pools, path rewriting, IP bans, sticky sessions, stats), written as our
// own scripts in Pipy 0.30's style and run over real sockets.
package conformance
