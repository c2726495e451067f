package blob

import (
	"os"
	"path/filepath"
	"testing"
)

// Store directories are absolute: relative paths under the root (itself
// made absolute), absolute ones as given; the set opens, lists and forgets
// stores by name.
func TestStores(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := NewStores("blobs", 7)
	if got, want := s.Dir("team"), filepath.Join(dir, "blobs", "team"); got != want {
		t.Fatalf("Dir(team) = %s, want %s", got, want)
	}
	if got := s.Dir("/srv/x/../y"); got != "/srv/y" {
		t.Fatalf("Dir of an absolute path = %s", got)
	}
	b, err := s.Open("b", "bee")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", "bee", "content")); err != nil {
		t.Fatalf("store directory: %v", err)
	}
	if b.minFree.Load() != 7 {
		t.Fatalf("minFree = %d, want the set's", b.minFree.Load())
	}
	if _, err := s.Open("a", "a"); err != nil {
		t.Fatal(err)
	}
	if l := s.List(); len(l) != 2 || l[0].Name() != "a" || l[1].Name() != "b" {
		t.Fatalf("List = %v", l)
	}
	s.Remove("a")
	if _, ok := s.Get("a"); ok {
		t.Fatal("removed store still there")
	}
	if got, ok := s.Get("b"); !ok || got != b {
		t.Fatal("store b lost")
	}
}
