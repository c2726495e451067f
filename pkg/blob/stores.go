package blob

import (
	"path/filepath"
	"sort"
	"sync"
)

// Stores is the open file blob stores of a server, by name. A store's
// directory is absolute, or relative to the root (the data directory's
// blobs/), as Nexus resolves file blob store paths.
type Stores struct {
	root    string
	minFree int64

	mu     sync.RWMutex
	stores map[string]*Store
}

// NewStores returns an empty set of stores under root, each short of space
// at or below minFree bytes (see Store.SetMinFree). Root is made absolute,
// so that every store's Dir is, and two spellings of one directory compare
// equal.
func NewStores(root string, minFree int64) *Stores {
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return &Stores{root: root, minFree: minFree, stores: map[string]*Store{}}
}

// Dir returns the directory a store of path lives in.
func (s *Stores) Dir(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(s.root, path)
}

// Open opens (creating its directory if needed) the file store name in
// path and adds it to the set, replacing any store of that name.
func (s *Stores) Open(name, path string) (*Store, error) {
	d, err := NewFileDriver(s.Dir(path))
	if err != nil {
		return nil, err
	}
	st := NewStore(name, d)
	s.Add(st)
	return st, nil
}

// Add puts st, over any driver, in the set, replacing any store of its
// name, with the set's minimum free space.
func (s *Stores) Add(st *Store) {
	st.SetMinFree(s.minFree)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stores[st.name] = st
}

// Get returns the open store named name.
func (s *Stores) Get(name string) (*Store, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.stores[name]
	return st, ok
}

// Remove takes store name out of the set; its files stay.
func (s *Stores) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.stores, name)
}

// List returns the open stores ordered by name.
func (s *Stores) List() []*Store {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Store, 0, len(s.stores))
	for _, st := range s.stores {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
