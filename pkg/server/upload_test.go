package server

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/config"
)

// A component upload is content: api.max-body-size (for JSON documents)
// does not bound it, upload.max-size does, per file and for the form.
func TestComponentUploadLimits(t *testing.T) {
	s := startTestServer(t, func(c *config.Config) { c.MaxUploadSize = 3 << 20 })
	upload := func(size int) (int, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.WriteField("raw.directory", "big")
		w.WriteField("raw.asset1.filename", "f.bin")
		fw, _ := w.CreateFormFile("raw.asset1", "f.bin")
		fw.Write(bytes.Repeat([]byte("x"), size))
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
	if code, body := upload(2 << 20); code != http.StatusNoContent {
		t.Fatalf("a 2 MiB upload (over api.max-body-size, under upload.max-size): %d %s", code, body)
	}
	if code, body := upload(5 << 20); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 5 MiB upload over upload.max-size: %d %s", code, body)
	}
}
