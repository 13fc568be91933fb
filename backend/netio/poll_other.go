//go:build !linux

package netio

import (
	"errors"
	"syscall"
)

var errNoPoller = errors.New("netio: no epoll loop on this platform")

// pollSupported says whether this platform has the worker-owned epoll loop;
// elsewhere every connection reads on its own goroutine.
const pollSupported = false

// Poller is the worker-owned epoll loop, which this platform lacks.
type Poller struct{ arena []byte }

// NewPoller returns a poller that registers nothing.
func NewPoller(loop Executor) *Poller { return &Poller{} }

func (p *Poller) add(c *Conn) error                  { return errNoPoller }
func (p *Poller) remove(c *Conn)                     {}
func (p *Poller) again(c *Conn)                      {}
func (p *Poller) readBuf() []byte                    { return nil }
func detach(nc syscall.Conn) (int, error)            { return -1, errNoPoller }
func sysRead(fd int, b []byte) (int, syscall.Errno)  { return 0, syscall.ENOSYS }
func sysWrite(fd int, b []byte) (int, syscall.Errno) { return 0, syscall.ENOSYS }
func sysShutdownWrite(fd int)                        {}
func sysClose(fd int)                                {}
