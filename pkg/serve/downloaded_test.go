package serve

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Content records a download for a GET answered with the bytes, and for
// nothing else; large content still leaves by the writer's ReadFrom.
func TestContentRecordsDownloads(t *testing.T) {
	big := strings.Repeat("b", smallContent+1)
	for _, tc := range []struct {
		method, header, value string
		body                  string
		status                int
		readFrom              bool
	}{
		{method: http.MethodGet, body: "small", status: http.StatusOK},
		{method: http.MethodGet, body: big, status: http.StatusOK, readFrom: true},
		{method: http.MethodGet, header: "Range", value: "bytes=1-2", body: "small", status: http.StatusPartialContent},
		{method: http.MethodHead, body: "small", status: http.StatusOK},
		{method: http.MethodGet, header: "If-None-Match", value: `"s1"`, body: "small", status: http.StatusNotModified},
		{method: http.MethodGet, header: "Range", value: "bytes=99-", body: "small", status: http.StatusRequestedRangeNotSatisfiable},
	} {
		downloads := 0
		c := &repo.Content{
			Asset: &meta.Asset{Path: "a", Size: int64(len(tc.body)), ContentType: "text/plain",
				Checksums: map[string]string{"sha1": "s1"}, LastModified: time.Unix(1e9, 0)},
			Body:       seekCloser{bytes.NewReader([]byte(tc.body))},
			Downloaded: func(context.Context) { downloads++ },
		}
		req := httptest.NewRequest(tc.method, "/a", nil)
		if tc.header != "" {
			req.Header.Set(tc.header, tc.value)
		}
		w := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
		if err := Content(w, req, c, ""); err != nil {
			t.Fatal(err)
		}
		want := 0
		if tc.method == http.MethodGet && (tc.status == http.StatusOK || tc.status == http.StatusPartialContent) {
			want = 1
		}
		if w.Code != tc.status || downloads != want || w.readFrom != tc.readFrom {
			t.Errorf("%s %s %q (%d bytes): status %d, %d downloads, readFrom %v; want %d, %d, %v",
				tc.method, tc.header, tc.value, len(tc.body), w.Code, downloads, w.readFrom, tc.status, want, tc.readFrom)
		}
	}
}
