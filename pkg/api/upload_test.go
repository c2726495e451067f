package api

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// uploadForm is a multipart body of fields and files (name → content),
// as curl -F sends it.
func uploadForm(t *testing.T, fields map[string]string, files map[string]string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	for k, v := range files {
		fw, err := w.CreateFormFile(k, k+".bin")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(v))
	}
	w.Close()
	return w.FormDataContentType(), &buf
}

func (c *restClient) upload(repository, contentType string, body *bytes.Buffer) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/service/rest/v1/components?repository="+repository, body)
	req.Header.Set("Content-Type", contentType)
	req.SetBasicAuth("admin", c.pw)
	rec := httptest.NewRecorder()
	c.e.ServeHTTP(rec, req)
	return rec
}

func TestRawComponentUpload(t *testing.T) {
	c := newRESTClient(t)
	expectStatus(t, c.do(http.MethodPost, "/v1/repositories/raw/hosted",
		`{"name":"h","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"ALLOW_ONCE"}}`), http.StatusCreated)
	stored := func(p string) string {
		r, _ := c.repos.Lookup("h")
		content, err := r.Get(t.Context(), p)
		if err != nil {
			return ""
		}
		defer content.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(content.Body)
		return b.String()
	}
	for _, tc := range []struct {
		name       string
		repository string
		fields     map[string]string
		files      map[string]string
		status     int
		id         string   // of the validation entry
		present    []string // path=content stored after
		absent     []string
	}{
		{"two assets", "h", map[string]string{"raw.directory": "/docs/v1/", "raw.asset1.filename": "a.txt", "raw.asset2.filename": "sub/b.txt"},
			map[string]string{"raw.asset1": "A", "raw.asset2": "B"}, http.StatusNoContent, "", []string{"docs/v1/a.txt=A", "docs/v1/sub/b.txt=B"}, nil},
		{"no directory", "h", map[string]string{"raw.asset1.filename": "c.txt"}, map[string]string{"raw.asset1": "C"},
			http.StatusBadRequest, "directory", nil, []string{"c.txt"}},
		{"no filename", "h", map[string]string{"raw.directory": "d"}, map[string]string{"raw.asset1": "D"},
			http.StatusBadRequest, "filename", nil, []string{"d/raw.asset1.bin"}},
		{"traversal", "h", map[string]string{"raw.directory": "d", "raw.asset1.filename": "../../x"}, map[string]string{"raw.asset1": "X"},
			http.StatusBadRequest, "filename", nil, []string{"x"}},
		{"no assets", "h", map[string]string{"raw.directory": "d"}, nil, http.StatusBadRequest, "asset", nil, nil},
		// Asset 2 is refused by the write policy: asset 1 does not stay.
		{"second fails", "h", map[string]string{"raw.directory": "docs", "raw.asset1.filename": "new.txt", "raw.asset2.filename": "v1/a.txt"},
			map[string]string{"raw.asset1": "N", "raw.asset2": "again"}, http.StatusBadRequest, "", []string{"docs/v1/a.txt=A"}, []string{"docs/new.txt"}},
		{"unknown repository", "nope", map[string]string{"raw.directory": "d", "raw.asset1.filename": "e"}, map[string]string{"raw.asset1": "E"},
			http.StatusNotFound, "", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct, body := uploadForm(t, tc.fields, tc.files)
			rec := c.upload(tc.repository, ct, body)
			expectStatus(t, rec, tc.status)
			if tc.id != "" {
				var list []ValidationError
				decodeJSON(t, rec, &list)
				if len(list) != 1 || list[0].ID != tc.id {
					t.Fatalf("validation list %s, want id %s", rec.Body, tc.id)
				}
			}
			for _, pc := range tc.present {
				p, want, _ := strings.Cut(pc, "=")
				if got := stored(p); got != want {
					t.Errorf("%s = %q, want %q", p, got, want)
				}
			}
			for _, p := range tc.absent {
				if got := stored(p); got != "" {
					t.Errorf("%s stored (%q) after a refused upload", p, got)
				}
			}
		})
	}
	expectStatus(t, c.do(http.MethodPost, "/v1/components", ""), http.StatusUnprocessableEntity)
	expectStatus(t, c.upload("h", "application/json", bytes.NewBufferString("{}")), http.StatusBadRequest)
}
