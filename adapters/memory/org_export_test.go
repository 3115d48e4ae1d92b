package memory

// OrgIndexMappedBytes returns the bytes of s's node index that live outside
// the Go heap (a huge-page mapping on Linux), so that benchmarks counting
// retained heap can count them too.
func OrgIndexMappedBytes(s *OrgStore) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.idx.mappedBytes()
}
