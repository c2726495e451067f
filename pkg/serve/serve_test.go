package serve

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// readFromRecorder is a ResponseWriter with a ReadFrom, as net/http's is
// (sendfile); it records whether ReadFrom was used.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	readFrom bool
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.readFrom = true
	return io.Copy(r.ResponseRecorder, src)
}

type seekCloser struct{ *bytes.Reader }

func (seekCloser) Close() error { return nil }

// Small stored content is written from a buffer, with ranges intact;
// larger content still goes to the writer's ReadFrom.
func TestContentSmallBodiesAreBuffered(t *testing.T) {
	for _, tc := range []struct {
		size     int
		rng      string
		want     string
		readFrom bool
	}{
		{size: 2000, want: strings.Repeat("m", 2000)},
		{size: 2000, rng: "bytes=10-19", want: strings.Repeat("m", 10)},
		{size: smallContent + 1, want: strings.Repeat("m", smallContent+1), readFrom: true},
	} {
		body := strings.Repeat("m", tc.size)
		c := &repo.Content{
			Asset: &meta.Asset{Path: "a", Size: int64(tc.size), ContentType: "application/json", LastModified: time.Unix(1e9, 0)},
			Body:  seekCloser{bytes.NewReader([]byte(body))},
		}
		req := httptest.NewRequest(http.MethodGet, "/a", nil)
		if tc.rng != "" {
			req.Header.Set("Range", tc.rng)
		}
		w := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
		Content(w, req, c, "")
		if got := w.Body.String(); got != tc.want {
			t.Errorf("size %d, range %q: body of %d bytes, want %d", tc.size, tc.rng, len(got), len(tc.want))
		}
		if w.readFrom != tc.readFrom {
			t.Errorf("size %d: ReadFrom used = %v, want %v", tc.size, w.readFrom, tc.readFrom)
		}
	}
}
