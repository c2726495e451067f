package server

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/config"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// A component upload is content: api.max-body-size (for JSON documents)
// does not bound it, upload.max-size does, per file; the form holds at
// most repo.MaxUploadFiles files.
func TestComponentUploadLimits(t *testing.T) {
	s := startTestServer(t, func(c *config.Config) { c.MaxUploadSize = 3 << 20 })
	upload := func(dir string, sizes ...int) (int, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.WriteField("raw.directory", dir)
		for i, size := range sizes {
			n := strconv.Itoa(i + 1)
			w.WriteField("raw.asset"+n+".filename", "f"+n+".bin")
			fw, _ := w.CreateFormFile("raw.asset"+n, "f"+n+".bin")
			fw.Write(bytes.Repeat([]byte("x"), size))
		}
		w.Close()
		req, _ := http.NewRequest(http.MethodPost, "http://"+s.main+"/service/rest/v1/components?repository=raw-h", &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.SetBasicAuth(auth.AdminUser, s.adminPW)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := upload("big", 2<<20); code != http.StatusNoContent {
		t.Fatalf("a 2 MiB upload (over api.max-body-size, under upload.max-size): %d %s", code, body)
	}
	if code, body := upload("two", 2<<20, 2<<20); code != http.StatusNoContent {
		t.Fatalf("two 2 MiB files (each under upload.max-size, together over it): %d %s", code, body)
	}
	if code, body := upload("huge", 5<<20); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 5 MiB upload over upload.max-size: %d %s", code, body)
	}
	many := make([]int, repo.MaxUploadFiles+1)
	if code, body := upload("many", many...); code != http.StatusBadRequest || !strings.Contains(body, "at most") {
		t.Fatalf("%d files: %d %s", len(many), code, body)
	}
	for _, dir := range []string{"huge", "many"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.main+"/repository/raw-h/"+dir+"/f1.bin", nil)
		req.SetBasicAuth(auth.AdminUser, s.adminPW)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("a refused upload stored %s/f1.bin: %d", dir, resp.StatusCode)
		}
	}
}
