package algo

// Hash returns the 64-bit FNV-1a hash of s. It is stable across runs and
// platforms. (Pipy's algo.hash uses the C++ library's std::hash, whose
// values differ between standard libraries; scripts cannot rely on
// specific values, only on equal inputs giving equal hashes.)
func Hash(s string) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime64
	}
	return h
}

// Hash53 is Hash truncated to its low 53 bits, so that it is exactly
// representable as a JS number: algo.hash(v) in Pipy returns
// hash & (2^53-1).
func Hash53(s string) uint64 {
	return Hash(s) & (1<<53 - 1)
}
