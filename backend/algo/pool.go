package algo

// ResourcePool is Pipy 0.30's algo.ResourcePool: it hands out resources
// (e.g. connection IDs used as muxHTTP keys) per pool key, recycling freed
// resources of the same pool, oldest first, before calling the allocator.
// It is not safe for concurrent use.
//
// A tenant groups allocations: while a tenant holds a resource of a pool,
// Allocate(pool, tenant) returns that same resource again without
// allocating, and FreeTenant returns all of the tenant's resources at
// once. A nil tenant means "no tenant" (JS undefined); every such
// Allocate takes a fresh or recycled resource. Tenants must be comparable
// at run time (map keys).
//
// Resources are identified by value: the allocator should return distinct
// values, as Pipy's tutorials do (++connectionID).
type ResourcePool[K comparable, R comparable] struct {
	alloc     func(pool K, tenant any) (R, error)
	pools     map[K][]R // free resources, oldest first
	allocated map[R]allocation[K]
	tenants   map[any][]tenantResource[K, R]
}

type allocation[K comparable] struct {
	pool   K
	tenant any
}

type tenantResource[K comparable, R comparable] struct {
	pool     K
	resource R
}

// NewResourcePool creates a pool whose alloc is called with the pool key
// and tenant when no freed resource of that pool is available.
func NewResourcePool[K comparable, R comparable](alloc func(pool K, tenant any) (R, error)) *ResourcePool[K, R] {
	return &ResourcePool[K, R]{
		alloc:     alloc,
		pools:     make(map[K][]R),
		allocated: make(map[R]allocation[K]),
		tenants:   make(map[any][]tenantResource[K, R]),
	}
}

// Allocate returns a resource of pool for tenant (nil for none): the
// tenant's current resource of that pool if it has one, else the oldest
// freed resource of the pool, else a new one from alloc. An alloc error is
// returned as is and nothing is recorded.
func (p *ResourcePool[K, R]) Allocate(pool K, tenant any) (R, error) {
	if tenant != nil {
		for _, tr := range p.tenants[tenant] {
			if tr.pool == pool {
				return tr.resource, nil
			}
		}
	}
	var r R
	if free := p.pools[pool]; len(free) > 0 {
		r = free[0]
		var zero R
		free[0] = zero
		if len(free) == 1 {
			p.pools[pool] = free[:0]
		} else {
			p.pools[pool] = free[1:]
		}
	} else {
		var err error
		r, err = p.alloc(pool, tenant)
		if err != nil {
			var zero R
			return zero, err
		}
	}
	if tenant != nil {
		p.tenants[tenant] = append(p.tenants[tenant], tenantResource[K, R]{pool, r})
	}
	p.allocated[r] = allocation[K]{pool, tenant}
	return r, nil
}

// Free returns r to its pool. Resources not currently allocated are
// ignored.
func (p *ResourcePool[K, R]) Free(r R) {
	a, ok := p.allocated[r]
	if !ok {
		return
	}
	if a.tenant != nil {
		list := p.tenants[a.tenant]
		for i, tr := range list {
			if tr.pool == a.pool {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(p.tenants, a.tenant)
		} else {
			p.tenants[a.tenant] = list
		}
	}
	p.pools[a.pool] = append(p.pools[a.pool], r)
	delete(p.allocated, r)
}

// FreeTenant returns every resource held by tenant to its pool, in the
// order the tenant allocated them. Unknown tenants are ignored.
func (p *ResourcePool[K, R]) FreeTenant(tenant any) {
	list, ok := p.tenants[tenant]
	if !ok {
		return
	}
	for _, tr := range list {
		p.pools[tr.pool] = append(p.pools[tr.pool], tr.resource)
		delete(p.allocated, tr.resource)
	}
	delete(p.tenants, tenant)
}

// Idle returns the number of freed resources waiting in pool.
func (p *ResourcePool[K, R]) Idle(pool K) int { return len(p.pools[pool]) }

// InUse returns the number of allocated resources, all pools together.
func (p *ResourcePool[K, R]) InUse() int { return len(p.allocated) }
