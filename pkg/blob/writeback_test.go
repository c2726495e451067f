package blob

import (
	"bytes"
	"testing"
)

// Written bytes are handed to write-back in writebackChunk steps, from
// where an upload ends, and a truncation moves the mark back.
func TestWritebackFollowsWrites(t *testing.T) {
	d, err := NewFileDriver(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := d.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Cancel()
	chunk := bytes.Repeat([]byte{1}, 1<<20)
	ft := w.(*fileTemp)
	for i := 1; i <= 2*writebackChunk/len(chunk)+3; i++ {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		if want := int64(i*len(chunk)) / writebackChunk * writebackChunk; ft.flushed != want || ft.end != int64(i*len(chunk)) {
			t.Fatalf("after %d MiB: flushed %d, end %d; want %d, %d", i, ft.flushed, ft.end, want, i*len(chunk))
		}
	}

	const id = "00000000-0000-4000-8000-000000000000"
	u, size, err := d.Resume(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for range writebackChunk/len(chunk) + 1 {
		u.Write(chunk)
	}
	u.Close()
	u, size, err = d.Resume(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Cancel()
	ut := u.(*fileTemp)
	if ut.end != size || ut.flushed != size {
		t.Fatalf("resumed upload of %d bytes: end %d, flushed %d", size, ut.end, ut.flushed)
	}
	if err := u.Truncate(1 << 20); err != nil {
		t.Fatal(err)
	}
	if ut.end != 1<<20 || ut.flushed != 1<<20 {
		t.Fatalf("after truncation: end %d, flushed %d; want %d", ut.end, ut.flushed, 1<<20)
	}
}
