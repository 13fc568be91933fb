package netio

// Hold stops c's reader from reading more until a matching Unhold: a
// filter that keeps back the input it was given (a throttle waiting for
// quota) holds the connection that input came from, as Pipy closes its
// input tap, so a fast sender waits in its socket buffers, not in memory.
// Holds count. Safe from any goroutine.
func (c *Conn) Hold() { c.holds.Add(1) }

// Unhold undoes one Hold.
func (c *Conn) Unhold() {
	c.holds.Add(-1)
	c.wake()
}
