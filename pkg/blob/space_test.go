package blob

import "testing"

func TestSpaceLowThreshold(t *testing.T) {
	d, err := NewFileDriver(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore("default", d)
	free, low, err := s.SpaceLow(t.Context())
	if err != nil || free <= 0 || low {
		t.Fatalf("SpaceLow with no minimum = %d, %v, %v; want free space, not low", free, low, err)
	}
	s.SetMinFree(free + 1<<40)
	if _, low, err := s.SpaceLow(t.Context()); err != nil || !low {
		t.Fatalf("SpaceLow below the minimum = %v, %v; want low", low, err)
	}
}
