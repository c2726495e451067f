package serve

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
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

// followed is a download being followed: it gives data, then fails.
type followed struct {
	data []byte
	err  error
	got  error
}

func (f *followed) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		f.got = f.err
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}
func (f *followed) Err() error   { return f.got }
func (f *followed) Close() error { return nil }

// A download that fails is answered with an error status when it fails
// before its first byte, and cut after its headers and first bytes
// otherwise: never a connection closed without a response, which HTTP
// clients take for a stale keep-alive and silently send again.
func TestContentOfAFailingDownload(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sent   int
		status int
	}{
		{"BeforeTheFirstByte", 0, http.StatusBadGateway},
		{"AfterAFewBytes", 100, http.StatusOK},
		{"AfterMany", 1 << 20, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if requests.Add(1) == 1 && r.URL.Path == "/warm" {
					return
				}
				c := &repo.Content{
					Asset: &meta.Asset{Path: "a", Size: 2 << 20, ContentType: "application/octet-stream", LastModified: time.Unix(1e9, 0)},
					Body:  &followed{data: bytes.Repeat([]byte("d"), tc.sent), err: errs.New(errs.Upstream, "upstream cut")},
				}
				if err := Content(w, r, c, ""); err != nil {
					Error(w, r, slog.New(slog.DiscardHandler), err)
				}
			}))
			defer srv.Close()
			client := srv.Client()
			// A kept-alive connection, as clients have: the one net/http
			// resends a request on when it closes without an answer.
			if resp, err := client.Get(srv.URL + "/warm"); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			resp, err := client.Get(srv.URL + "/a")
			if err != nil {
				t.Fatalf("GET: %v (the server sent no response)", err)
			}
			defer resp.Body.Close()
			n, rerr := io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusOK && (rerr == nil || n != int64(tc.sent)) {
				t.Errorf("read %d bytes, err %v: want the %d bytes sent, then a cut transfer", n, rerr, tc.sent)
			}
			if got := requests.Load(); got != 2 {
				t.Errorf("the server saw %d requests, want 2 (the client resent the request)", got)
			}
		})
	}
}
