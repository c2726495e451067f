package repo

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func TestCheckContentType(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 600)...)
	binary := []byte{0x00, 0x01, 0x02, 0xff, 0xfe, 0x00, 0x10}
	cases := []struct {
		name     string
		body     []byte
		declared string
		ok       bool
	}{
		{"text as text", []byte("hello world\n"), "text/plain; charset=utf-8", true},
		{"json as json", []byte(`{"a":1}`), "application/json", true},
		{"binary as text", binary, "text/plain", false},
		{"binary as json", binary, "application/json", false},
		{"png as png", png, "image/png", true},
		{"png as gif", png, "image/gif", false},
		{"binary as octet-stream", binary, "application/octet-stream", true},
		{"binary as zip", binary, "application/zip", true},
		{"empty as text", nil, "text/plain", true},
		{"html error page as a jar", []byte("<!DOCTYPE html><html><body>Not found</body></html>"), "application/java-archive", false},
		{"html error page as xml", []byte("\n  <html><head><title>502</title></head></html>"), "application/xml", false},
		{"html after a comment as xml", []byte("<!-- proxy -->\n<html><body>oops</body></html>"), "application/xml", false},
		{"xml starting with a comment", []byte("<!-- Licensed under... -->\n<project xmlns=\"http://maven.apache.org/POM/4.0.0\"></project>"), "application/xml", true},
		{"xml with a declaration", []byte("<?xml version=\"1.0\"?>\n<project></project>"), "application/xml", true},
		{"html as html", []byte("<html></html>"), "text/html", true},
		{"html as text", []byte("<html></html>"), "text/plain", true},
	}
	for _, c := range cases {
		r, err := checkContentType(bytes.NewReader(c.body), c.declared)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if err != nil {
			if errs.KindOf(err) != errs.Invalid {
				t.Errorf("%s: kind %v, want Invalid", c.name, errs.KindOf(err))
			}
			continue
		}
		got, _ := io.ReadAll(r)
		if !bytes.Equal(got, c.body) {
			t.Errorf("%s: reader lost bytes: %d of %d", c.name, len(got), len(c.body))
		}
	}
	long := strings.Repeat("x", 5000)
	r, err := checkContentType(strings.NewReader(long), "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r); string(got) != long {
		t.Fatalf("long body altered: %d bytes", len(got))
	}
}
