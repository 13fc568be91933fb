package engine

// Descriptions of the classes this package defines (jsapi.go, algojs.go).
func init() {
	DescribeClass(ClassDoc{Name: "pipy", Signature: "pipy(variables?: object | () => object): Configuration",
		Help: "Starts a module's configuration. The keys of variables become the module's context variables, with their initial values.",
		Members: []MemberDoc{
			{Name: "load", Signature: "pipy.load(path: string): Data", Help: "Reads a file of the codebase (the path is relative to the codebase root).", Static: true},
			{Name: "restart", Signature: "pipy.restart()", Help: "Reloads the codebase as a new generation.", Static: true},
			{Name: "exit", Signature: "pipy.exit(code?: number)", Help: "Stops the process after requests in flight finish.", Static: true},
		}})
	DescribeClass(ClassDoc{Name: "Message", Signature: "new Message(head?: object, body?: string | Data)",
		Help: "A whole message: a head (for HTTP: method, path, headers or status, headers) and a body. new Message('text') has only a body.",
		Members: []MemberDoc{
			{Name: "head", Signature: "head: object", Help: "The message head."},
			{Name: "body", Signature: "body: Data", Help: "The message body."},
		}})
	DescribeClass(ClassDoc{Name: "MessageStart", Signature: "new MessageStart(head?: object)", Help: "The event that opens a message.",
		Members: []MemberDoc{{Name: "head", Signature: "head: object", Help: "The message head; changes made here travel on with the event."}}})
	DescribeClass(ClassDoc{Name: "MessageEnd", Signature: "new MessageEnd(tail?: object)", Help: "The event that closes a message.",
		Members: []MemberDoc{{Name: "tail", Signature: "tail: object", Help: "Trailers, when the protocol has them."}}})
	DescribeClass(ClassDoc{Name: "StreamEnd", Signature: "new StreamEnd(error?: string)", Help: "The event that ends a stream; error names why it failed (ConnectionRefused, ReadTimeout, ...).",
		Members: []MemberDoc{{Name: "error", Signature: "error: string | undefined", Help: "Why the stream ended, if it failed."}}})
	DescribeClass(ClassDoc{Name: "Data", Signature: "new Data(content?: string | number[] | Data, encoding?: 'utf8' | 'base64' | 'base64url' | 'hex')",
		Help: "Bytes, held as a chain of chunks.",
		Members: []MemberDoc{
			{Name: "size", Signature: "size: number", Help: "The number of bytes."},
			{Name: "push", Signature: "push(data: string | Data): Data", Help: "Appends bytes."},
			{Name: "shift", Signature: "shift(n: number): Data", Help: "Removes the first n bytes and returns them."},
			{Name: "toString", Signature: "toString(encoding?: 'utf8' | 'base64' | 'base64url' | 'hex'): string", Help: "The bytes as text."},
			{Name: "toArray", Signature: "toArray(): number[]", Help: "The bytes as numbers."},
		}})
	DescribeClass(ClassDoc{Name: "JSON", Signature: "JSON", Help: "JSON, with Data conversions.",
		Members: []MemberDoc{
			{Name: "parse", Signature: "JSON.parse(text: string): any", Help: "Parses text.", Static: true},
			{Name: "stringify", Signature: "JSON.stringify(value: any, replacer?, space?): string", Help: "Serialises a value.", Static: true},
			{Name: "decode", Signature: "JSON.decode(data: Data): any", Help: "Parses the bytes of a Data.", Static: true},
			{Name: "encode", Signature: "JSON.encode(value: any, replacer?, space?): Data", Help: "Serialises a value into Data.", Static: true},
		}})
	DescribeClass(ClassDoc{Name: "console", Signature: "console", Help: "Writes to the log.",
		Members: []MemberDoc{
			{Name: "log", Signature: "console.log(...values)", Help: "Logs at info level.", Static: true},
			{Name: "info", Signature: "console.info(...values)", Help: "Logs at info level.", Static: true},
			{Name: "debug", Signature: "console.debug(...values)", Help: "Logs at debug level.", Static: true},
			{Name: "warn", Signature: "console.warn(...values)", Help: "Logs at warn level.", Static: true},
			{Name: "error", Signature: "console.error(...values)", Help: "Logs at error level.", Static: true},
		}})
	DescribeClass(ClassDoc{Name: "__inbound", Signature: "__inbound", Help: "The accepted connection the current pipeline serves (null in tasks).",
		Members: []MemberDoc{
			{Name: "id", Signature: "id: number", Help: "A number unique to the connection."},
			{Name: "remoteAddress", Signature: "remoteAddress: string", Help: "The client's IP address."},
			{Name: "remotePort", Signature: "remotePort: number", Help: "The client's port."},
			{Name: "localAddress", Signature: "localAddress: string", Help: "The address the connection was accepted on."},
			{Name: "localPort", Signature: "localPort: number", Help: "The port the connection was accepted on."},
			{Name: "destinationAddress", Signature: "destinationAddress: string", Help: "The original destination address."},
			{Name: "destinationPort", Signature: "destinationPort: number", Help: "The original destination port."},
		}})
	DescribeClass(ClassDoc{Name: "__filename", Signature: "__filename: string", Help: "The codebase path of the current module."})
	DescribeClass(ClassDoc{Name: "algo.URLRouter", Signature: "new algo.URLRouter(routes?: {[pattern: string]: any})",
		Help: "Maps URLs to values. Patterns are '/path', '/path/*' (the path and everything under it) or 'host/path'; a host-specific pattern wins over a path-only one, an exact path over a wildcard.",
		Members: []MemberDoc{
			{Name: "add", Signature: "add(pattern: string, value: any)", Help: "Adds (or replaces) a route."},
			{Name: "find", Signature: "find(...parts: string[]): any", Help: "Joins the parts (host, path) and returns the value of the best route, or undefined. A :port and a ?query are ignored."},
		}})
	DescribeClass(ClassDoc{Name: "algo.RoundRobinLoadBalancer", Signature: "new algo.RoundRobinLoadBalancer(targets: string[] | {[target: string]: weight}, unhealthy?: algo.Cache)",
		Help: "Picks targets in turn, in proportion to their weights, skipping the ones the unhealthy cache holds a truthy value for.",
		Members: []MemberDoc{
			{Name: "select", Signature: "select(): string", Help: "The next target."},
			{Name: "deselect", Signature: "deselect(target: string)", Help: "Gives a selection back (no effect for round robin)."},
			{Name: "set", Signature: "set(target: string, weight?: number)", Help: "Adds a target or changes its weight."},
		}})
	DescribeClass(ClassDoc{Name: "algo.Cache", Signature: "new algo.Cache(allocate?: (key) => any, free?: (key, value) => void, options?: {size, ttl})",
		Help: "A map that fills itself: get() of a missing key stores what allocate returns. With size it evicts the least recently used; with ttl entries expire.",
		Members: []MemberDoc{
			{Name: "get", Signature: "get(key: any): any", Help: "The value for key, allocating it when missing."},
			{Name: "set", Signature: "set(key: any, value: any)", Help: "Stores a value."},
			{Name: "find", Signature: "find(key: any): any", Help: "The value for key, without allocating."},
			{Name: "remove", Signature: "remove(key: any): boolean", Help: "Removes an entry, calling free."},
			{Name: "clear", Signature: "clear()", Help: "Removes every entry, calling free for each."},
		}})
	DescribeClass(ClassDoc{Name: "algo.ResourcePool", Signature: "new algo.ResourcePool(allocate: (pool, tenant) => any)",
		Help: "Hands out reusable resources (e.g. connection ids) per pool; freed ones are reused first.",
		Members: []MemberDoc{
			{Name: "allocate", Signature: "allocate(pool?: any, tenant?: any): any", Help: "A free resource of the pool, or a new one."},
			{Name: "free", Signature: "free(resource: any)", Help: "Returns a resource to its pool."},
			{Name: "freeTenant", Signature: "freeTenant(tenant: any)", Help: "Returns every resource the tenant holds."},
		}})
}
