package classes

import (
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"strings"

	"github.com/dop251/goja"

	"sluice/backend/engine"
)

// Netmask is a CIDR block ('10.0.0.0/8'; an address alone is a /32). IPv4
// blocks behave as in Pipy: first and last leave out the network and
// broadcast addresses, next() hands out the hosts in order and then ''.
// IPv6 blocks work the same way, with size as a number (2^n may be
// inexact) and no broadcast address left out of last.

func init() {
	engine.RegisterGlobal(installNetmask)
	engine.DescribeClass(engine.ClassDoc{Name: "Netmask", Signature: "new Netmask(cidr: string)",
		Help: "A block of IP addresses in CIDR notation ('192.168.0.0/16'; an address alone is /32 or /128). Throws a TypeError for bad notation.",
		Members: []engine.MemberDoc{
			{Name: "base", Signature: "base: string", Help: "The network address."},
			{Name: "mask", Signature: "mask: string", Help: "The netmask, e.g. '255.255.0.0'."},
			{Name: "bitmask", Signature: "bitmask: number", Help: "The prefix length."},
			{Name: "hostmask", Signature: "hostmask: string", Help: "The inverse of the mask, e.g. '0.0.255.255'."},
			{Name: "broadcast", Signature: "broadcast: string", Help: "The last address of the block."},
			{Name: "size", Signature: "size: number", Help: "The number of addresses in the block."},
			{Name: "first", Signature: "first: string", Help: "The first host address."},
			{Name: "last", Signature: "last: string", Help: "The last host address."},
			{Name: "contains", Signature: "contains(ip: string): boolean", Help: "Whether the address is in the block (false for anything that is not an address)."},
			{Name: "next", Signature: "next(): string", Help: "The next host address of the block, from the first; '' when none is left."},
		}})
}

type netmask struct {
	readOnly
	prefix netip.Prefix // masked
	next   netip.Addr   // what next() returns; invalid when done
}

func parseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR notation %q", s)
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR notation %q", s)
	}
	return p.Masked(), nil
}

// addrBits and fromBits convert addresses to and from big integers.
func addrBits(a netip.Addr) *big.Int { return new(big.Int).SetBytes(a.AsSlice()) }

func fromBits(n *big.Int, ipv4 bool) netip.Addr {
	size := 16
	if ipv4 {
		size = 4
	}
	b := n.FillBytes(make([]byte, size))
	a, _ := netip.AddrFromSlice(b)
	return a
}

func (m *netmask) is4() bool { return m.prefix.Addr().Is4() }

func (m *netmask) hostBits() int { return m.prefix.Addr().BitLen() - m.prefix.Bits() }

func (m *netmask) hostmaskInt() *big.Int {
	n := new(big.Int).Lsh(big.NewInt(1), uint(m.hostBits()))
	return n.Sub(n, big.NewInt(1))
}

func (m *netmask) maskAddr() netip.Addr {
	all := new(big.Int).Lsh(big.NewInt(1), uint(m.prefix.Addr().BitLen()))
	all.Sub(all, big.NewInt(1))
	return fromBits(all.Xor(all, m.hostmaskInt()), m.is4())
}

func (m *netmask) broadcast() netip.Addr {
	return fromBits(new(big.Int).Or(addrBits(m.prefix.Addr()), m.hostmaskInt()), m.is4())
}

func (m *netmask) first() netip.Addr {
	// base | (hostmask & 1): the network address itself only for /32.
	h := m.hostmaskInt()
	return fromBits(new(big.Int).Or(addrBits(m.prefix.Addr()), h.And(h, big.NewInt(1))), m.is4())
}

func (m *netmask) last() netip.Addr {
	// base | (hostmask & (hostmask - 1)): the broadcast address left out.
	h := m.hostmaskInt()
	if !m.is4() {
		return m.broadcast()
	}
	h1 := new(big.Int).Sub(h, big.NewInt(1))
	if h.Sign() == 0 {
		h1.SetInt64(0)
	}
	return fromBits(new(big.Int).Or(addrBits(m.prefix.Addr()), h.And(h, h1)), true)
}

func (m *netmask) size() float64 { return math.Pow(2, float64(m.hostBits())) }

// nextHost returns the next host address, or "" when the block is used up
// (the network and, for IPv4, the broadcast address are never handed out).
func (m *netmask) nextHost() string {
	if !m.next.IsValid() {
		return ""
	}
	a := m.next
	end := m.broadcast()
	if a == end && (m.is4() || m.hostBits() == 0) || !m.prefix.Contains(a) {
		m.next = netip.Addr{}
		return ""
	}
	m.next = a.Next()
	return a.String()
}

func installNetmask(w *engine.Worker, g *goja.Object) {
	rt := w.Runtime()
	throw := thrower(rt)
	pro := w.Class(g, "Netmask", func(call goja.ConstructorCall) *goja.Object {
		a := call.Argument(0)
		if !isString(a) {
			throw("new Netmask: expects a string in CIDR notation, got %s", a.String())
		}
		p, err := parseCIDR(a.String())
		if err != nil {
			throw("new Netmask: %v", err)
		}
		m := &netmask{prefix: p, next: p.Addr().Next()}
		m.readOnly = readOnly{
			keys: []string{"base", "mask", "bitmask", "hostmask", "broadcast", "size", "first", "last"},
			get: func(k string) goja.Value {
				switch k {
				case "base":
					return rt.ToValue(m.prefix.Addr().String())
				case "mask":
					return rt.ToValue(m.maskAddr().String())
				case "bitmask":
					return rt.ToValue(m.prefix.Bits())
				case "hostmask":
					return rt.ToValue(fromBits(m.hostmaskInt(), m.is4()).String())
				case "broadcast":
					return rt.ToValue(m.broadcast().String())
				case "size":
					return rt.ToValue(m.size())
				case "first":
					return rt.ToValue(m.first().String())
				case "last":
					return rt.ToValue(m.last().String())
				}
				return goja.Undefined()
			},
		}
		return w.NewInstance(call.This.Prototype(), m)
	})
	get := func(this *goja.Object) *netmask {
		m, ok := w.Impl(this).(*netmask)
		if !ok {
			throw("not a Netmask")
		}
		return m
	}
	w.Method(pro, "contains", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		m := get(this)
		a := call.Argument(0)
		if !isString(a) {
			throw("Netmask.contains: expects an address string")
		}
		ip, err := netip.ParseAddr(strings.TrimSpace(a.String()))
		if err != nil {
			return rt.ToValue(false)
		}
		if m.is4() {
			ip = ip.Unmap()
		}
		return rt.ToValue(m.prefix.Contains(ip.WithZone("")))
	})
	w.Method(pro, "next", func(this *goja.Object, call goja.FunctionCall) goja.Value {
		return rt.ToValue(get(this).nextHost())
	})
}
