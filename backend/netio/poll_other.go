//go:build !linux

package netio

import (
	"errors"
	"net"
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

// RawSocket is an accepted descriptor; this platform does not make them.
type RawSocket struct {
	FD            int
	Local, Remote net.Addr
}

// Acceptor accepts raw descriptors; this platform has none.
type Acceptor struct{}

// NewAcceptor returns nil: accept net.Conns.
func NewAcceptor(ln net.Listener) *Acceptor { return nil }

// Accept is not available on this platform.
func (a *Acceptor) Accept() (RawSocket, error) { return RawSocket{}, errNoPoller }

// Close does nothing.
func (a *Acceptor) Close() {}

// NewRawConn is not available on this platform.
func NewRawConn(s RawSocket, loop Loop, h Handler, opt Options) (*Conn, error) {
	return nil, errNoPoller
}

// Close closes a socket that was accepted but will not be used.
func (s RawSocket) Close() {}
