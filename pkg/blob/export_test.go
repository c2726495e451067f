package blob

// UploadStates returns how many uploads s keeps hash state for.
func UploadStates(s *Store) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}
