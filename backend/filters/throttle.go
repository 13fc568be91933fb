package filters

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/dop251/goja"

	"sluice/backend/engine"
	"sluice/backend/event"
	"sluice/backend/logging"
	"sluice/backend/netio"
)

// Throttling filters. Quotas are kept per account in buckets that every
// worker of the program shares: the same filter (by its place in the
// script) with the same account key draws on one bucket wherever the
// stream runs. A stream that finds its bucket empty holds its events back
// and queues itself on the bucket; it is woken (on its own worker, through
// Post) when quota comes back, so no worker ever waits.

func init() {
	engine.Register(&engine.FilterKind{
		Name: "throttleMessageRate", Signature: "throttleMessageRate(quota: number | string | () => number | string, account?: any | () => any)",
		Help: "Lets at most quota messages per second start through this place in the script, per account (one account when none is given; shared by all workers). A message over the quota waits, with everything behind it, for the next second's quota.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			return parseThrottle(b, args, throttleMessages)
		},
	})
	engine.Register(&engine.FilterKind{
		Name: "throttleDataRate", Signature: "throttleDataRate(quota: number | string | () => number | string, account?: any | () => any)",
		Help: "Lets at most quota bytes of Data per second ('1k', '10m': binary units) through this place in the script, per account (one account when none is given; shared by all workers). Data over the quota waits for the next second's quota.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			return parseThrottle(b, args, throttleData)
		},
	})
	engine.Register(&engine.FilterKind{
		Name: "throttleConcurrency", Signature: "throttleConcurrency(quota: number | string | () => number | string, account?: any | () => any)",
		Help: "Lets at most quota streams at a time through this place in the script, per account (one account when none is given; shared by all workers). A stream over the quota waits, holding its events, until a running one ends.",
		Parse: func(b *engine.Builder, args []goja.Value) (engine.Config, error) {
			return parseThrottle(b, args, throttleStreams)
		},
	})
}

type throttleKind int

const (
	throttleMessages throttleKind = iota
	throttleData
	throttleStreams
)

type throttleConfig struct {
	kind    throttleKind
	quota   engine.Value
	account engine.Value
	site    engine.Site
	prog    *engine.Program
	objects *objectAccounts // accounts keyed by script objects: per worker, as the objects are
}

func parseThrottle(b *engine.Builder, args []goja.Value, kind throttleKind) (engine.Config, error) {
	if err := argCount(args, 1, 2, b.Kind.Name+"(quota, account?)"); err != nil {
		return nil, err
	}
	c := &throttleConfig{kind: kind, site: b.Site(), prog: b.W.Program, objects: &objectAccounts{m: map[weak.Pointer[goja.Object]]*bucket{}}}
	c.quota = engine.NewValue(args[0])
	if !c.quota.IsFunc() {
		if _, err := parseQuota(args[0]); err != nil {
			return nil, err
		}
	}
	c.account = engine.Value{Const: goja.Undefined()}
	if len(args) > 1 {
		c.account = engine.NewValue(args[1])
	}
	return c, nil
}

// parseQuota reads a quota: a number, or a string with an optional binary
// unit (k, m, g, t), as Pipy does. Zero or less means no limit.
func parseQuota(v goja.Value) (float64, error) {
	switch x := v.Export().(type) {
	case int64:
		return float64(x), nil
	case float64:
		if math.IsNaN(x) {
			return 0, fmt.Errorf("invalid quota NaN")
		}
		return x, nil
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		mult := 1.0
		if s != "" {
			switch s[len(s)-1] {
			case 't':
				mult = 1 << 40
			case 'g':
				mult = 1 << 30
			case 'm':
				mult = 1 << 20
			case 'k':
				mult = 1 << 10
			}
			if mult > 1 {
				s = s[:len(s)-1]
			}
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid quota %q (want a number, optionally with k, m, g or t)", x)
		}
		return n * mult, nil
	}
	return 0, fmt.Errorf("quota must be a number, a string like '10k' or a function, got %s", describeValue(v))
}

// objectAccounts holds the buckets of accounts keyed by objects. Like
// Pipy's, the keys are weak: an account goes when its object does (so
// () => __inbound gives each connection an account that ends with it).
//
// Threading: get runs on the config's worker; the cleanup that forgets a
// collected object runs on a runtime goroutine, hence the lock.
type objectAccounts struct {
	mu sync.Mutex
	m  map[weak.Pointer[goja.Object]]*bucket
}

func (a *objectAccounts) get(o *goja.Object, mk func() *bucket) *bucket {
	k := weak.Make(o)
	a.mu.Lock()
	defer a.mu.Unlock()
	if b := a.m[k]; b != nil {
		return b
	}
	b := mk()
	a.m[k] = b
	runtime.AddCleanup(o, func(k weak.Pointer[goja.Object]) {
		a.mu.Lock()
		delete(a.m, k)
		a.mu.Unlock()
	}, k)
	return b
}

// accountKey is a bucket's key in the program's shared state.
type accountKey struct {
	site    engine.Site
	account any
}

// bucketFor returns the bucket of an account, setting its quota.
func (c *throttleConfig) bucketFor(account goja.Value, quota float64) *bucket {
	auto := c.kind != throttleStreams
	if o, ok := account.(*goja.Object); ok {
		b := c.objects.get(o, func() *bucket { return newBucket(auto, quota) })
		b.setSupply(quota)
		return b
	}
	var key any
	switch x := account.Export().(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			key = int64(x)
		} else {
			key = x
		}
	case nil, string, int64, bool:
		key = x
	default:
		key = account.String()
	}
	b := c.prog.Shared(accountKey{c.site, key}, func() any { return newBucket(auto, quota) }).(*bucket)
	b.setSupply(quota)
	return b
}

func (c *throttleConfig) New(p *engine.Pipeline, next event.Target) engine.Filter {
	return &throttle{c: c, p: p, next: next}
}

// throttle is one stream through a throttling filter.
type throttle struct {
	c         *throttleConfig
	p         *engine.Pipeline
	next      event.Target
	evaluated bool
	bucket    *bucket // nil: no limit
	held      []event.Event
	waiter    *bucketWaiter // set while queued on the bucket
	holding   *netio.Conn   // the connection held back while events wait
	active    bool          // throttleConcurrency: holds one unit of quota
	failed    bool
}

func (t *throttle) Reset() {
	if t.waiter != nil {
		t.bucket.cancel(t.waiter)
		t.waiter = nil
	}
	t.unhold()
	if t.active {
		t.bucket.give(1)
	}
	*t = throttle{c: t.c, p: t.p, next: t.next, held: t.held[:0]}
}

func (t *throttle) OnEvent(e event.Event) {
	if t.failed {
		return
	}
	if !t.evaluated {
		t.evaluated = true
		account, err := t.c.account.Eval(t.p)
		if err != nil {
			t.fail()
			return
		}
		qv, err := t.c.quota.Eval(t.p)
		if err != nil {
			t.fail()
			return
		}
		quota, err := parseQuota(qv)
		if err != nil {
			logging.Errorf("[%s] %v", t.name(), err)
		}
		if quota > 0 {
			t.bucket = t.c.bucketFor(account, quota)
		}
	}
	if t.bucket == nil {
		t.next.OnEvent(e)
		return
	}
	if len(t.held) > 0 || t.waiter != nil {
		if se, ok := e.(*event.StreamEnd); ok && se.Error != event.NoError {
			// An aborted stream does not wait for quota.
			t.bucket.cancel(t.waiter)
			t.waiter = nil
			t.held = t.held[:0]
			t.unhold()
			t.next.OnEvent(e)
			return
		}
		t.held = append(t.held, e)
		return
	}
	if rest := t.consume(e); rest != nil {
		t.held = append(t.held, rest)
		t.wait()
	}
}

func (t *throttle) name() string {
	switch t.c.kind {
	case throttleData:
		return "throttleDataRate"
	case throttleStreams:
		return "throttleConcurrency"
	}
	return "throttleMessageRate"
}

func (t *throttle) fail() {
	t.failed = true
	t.next.OnEvent(event.NewStreamEnd(event.RuntimeError))
}

// consume passes e on if the quota allows and returns nil, or returns what
// could not pass (all of e, or the rest of a Data).
func (t *throttle) consume(e event.Event) event.Event {
	switch t.c.kind {
	case throttleMessages:
		if e.Kind() == event.KindMessageStart && t.bucket.take(1) == 0 {
			return e
		}
	case throttleData:
		if d, ok := e.(*event.Data); ok && d.Size() > 0 {
			n := t.bucket.take(d.Size())
			if n < d.Size() {
				rest := d.Clone()
				if n > 0 {
					t.next.OnEvent(rest.Shift(n))
				}
				return rest
			}
		}
	case throttleStreams:
		if !t.active {
			if t.bucket.take(1) == 0 {
				return e
			}
			t.active = true
		}
	}
	t.next.OnEvent(e)
	return nil
}

// wait queues the stream on its bucket until quota comes back, and holds
// back the connection whose input is being processed, if any.
func (t *throttle) wait() {
	w := t.p.W
	if c := w.Reading(); c != nil && t.holding == nil {
		c.Hold()
		t.holding = c
	}
	b := t.bucket
	wt := &bucketWaiter{}
	wt.wake = func() {
		w.Post(func() {
			if t.waiter == wt {
				t.waiter = nil
				t.resume()
			} else {
				// The stream went away after it was woken: whatever it
				// was woken for goes to the next in line.
				b.kick()
			}
		})
	}
	t.waiter = wt
	t.bucket.enqueue(wt)
}

// resume lets held events through while the quota lasts.
func (t *throttle) resume() {
	for len(t.held) > 0 {
		e := t.held[0]
		if rest := t.consume(e); rest != nil {
			t.held[0] = rest
			t.wait()
			return
		}
		t.held[0] = nil
		t.held = t.held[1:]
	}
	t.unhold()
}

func (t *throttle) unhold() {
	if t.holding != nil {
		t.holding.Unhold()
		t.holding = nil
	}
}

// bucket holds one account's quota.
//
// Threading: shared by every worker; all fields are guarded by mu. wake
// functions are called with mu released.
type bucket struct {
	mu      sync.Mutex
	auto    bool    // refilled every second (rates); otherwise given back (concurrency)
	quota   float64 // what can be taken now
	supply  float64 // per second, or the concurrency limit
	next    time.Time
	waiters []*bucketWaiter
	timer   *time.Timer
}

type bucketWaiter struct {
	wake   func()
	queued bool
}

func newBucket(auto bool, quota float64) *bucket {
	return &bucket{auto: auto, quota: quota, supply: quota, next: time.Now().Add(time.Second)}
}

func (b *bucket) setSupply(q float64) {
	b.mu.Lock()
	b.supply = q
	b.mu.Unlock()
}

// refill adds a second's supply at every tick that has passed, as Pipy
// does: only when less than one unit, or less than a second's supply, is
// left. mu held.
func (b *bucket) refill(now time.Time) {
	if !b.auto {
		return
	}
	if now.Before(b.next) {
		return
	}
	ticks := int(now.Sub(b.next)/time.Second) + 1
	for range min(ticks, 4) {
		if b.quota < 1 || b.quota < b.supply {
			b.quota += b.supply
		}
	}
	b.next = b.next.Add(time.Duration(ticks) * time.Second)
}

// take takes up to want whole units and returns how many it got (0 when
// less than one unit is left).
func (b *bucket) take(want int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(time.Now())
	if b.quota < 1 {
		return 0
	}
	n := min(float64(want), math.Floor(b.quota))
	b.quota -= n
	return int(n)
}

// give returns units (a stream through throttleConcurrency ended) and
// wakes streams waiting for them.
func (b *bucket) give(n float64) {
	b.mu.Lock()
	b.quota += n
	wake := b.popWaiters()
	b.mu.Unlock()
	for _, w := range wake {
		w.wake()
	}
}

// enqueue queues w until quota comes back. If some is there already (given
// back since the caller looked), w is woken at once.
func (b *bucket) enqueue(w *bucketWaiter) {
	b.mu.Lock()
	b.refill(time.Now())
	if b.quota >= 1 {
		b.mu.Unlock()
		w.wake()
		return
	}
	w.queued = true
	b.waiters = append(b.waiters, w)
	if b.auto && b.timer == nil {
		b.timer = time.AfterFunc(time.Until(b.next), b.tick)
	}
	b.mu.Unlock()
}

func (b *bucket) cancel(w *bucketWaiter) {
	if w == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !w.queued {
		return
	}
	w.queued = false
	for i, x := range b.waiters {
		if x == w {
			b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
			break
		}
	}
}

// kick wakes waiters if there is quota for them.
func (b *bucket) kick() {
	b.mu.Lock()
	b.refill(time.Now())
	wake := b.popWaiters()
	b.mu.Unlock()
	for _, w := range wake {
		w.wake()
	}
}

// tick runs on a timer goroutine at a refill while streams wait.
func (b *bucket) tick() {
	b.mu.Lock()
	b.timer = nil
	b.refill(time.Now())
	wake := b.popWaiters()
	if len(b.waiters) > 0 {
		b.timer = time.AfterFunc(time.Until(b.next), b.tick)
	}
	b.mu.Unlock()
	for _, w := range wake {
		w.wake()
	}
}

// popWaiters takes, first in first out, as many waiters as the quota can
// serve at one unit each; a woken stream that finds too little queues
// itself again. mu held.
func (b *bucket) popWaiters() []*bucketWaiter {
	n := 0
	for avail := b.quota; n < len(b.waiters) && avail >= 1; avail-- {
		n++
	}
	if n == 0 {
		return nil
	}
	wake := make([]*bucketWaiter, n)
	copy(wake, b.waiters[:n])
	for _, w := range wake {
		w.queued = false
	}
	b.waiters = append(b.waiters[:0], b.waiters[n:]...)
	return wake
}
