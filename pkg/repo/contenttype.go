package repo

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// ContentTyper is implemented by formats that know the content type of
// their paths better than the system's extension table (a Maven .pom is
// XML, a .module JSON, a .jar a Java archive), and better than what an
// upstream declares.
type ContentTyper interface {
	// ContentType returns the type of the content at path, "" if the
	// format does not know it.
	ContentType(path string) string
}

// formatContentType is the format's type for p, or "".
func formatContentType(f Format, p string) string {
	if ct, ok := f.(ContentTyper); ok {
		return ct.ContentType(p)
	}
	return ""
}

// contentTypeByExt guesses a content type from a path: the format's type,
// else the extension's, else the generic binary type.
func contentTypeByExt(f Format, p string) string {
	if t := formatContentType(f, p); t != "" {
		return t
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// sniffLen is how much of a body http.DetectContentType looks at.
const sniffLen = 512

// checkContentType implements strictContentTypeValidation: the bytes must
// be of the kind the declared (or extension's) type says. Only clear
// contradictions are refused, text declared but binary sent or one image
// format declared and another sent, since sniffing cannot tell most
// binary formats apart, and an HTML page where anything but HTML or plain
// text is declared (the error page of a misbehaving upstream or proxy,
// served as a .jar or a .pom). It returns a reader that still yields
// every byte.
func checkContentType(body io.Reader, declared string) (io.Reader, error) {
	br := bufio.NewReaderSize(body, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, errs.Wrap(errs.Invalid, err, "upload could not be read")
	}
	want, _, _ := mime.ParseMediaType(declared)
	got, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	switch {
	case len(head) == 0 || want == "" || want == "application/octet-stream":
	case textual(want) && !textual(got):
		return nil, errs.New(errs.Invalid, "content is binary (%s) but declared as %s", got, want)
	case got == "text/html" && want != "text/html" && want != "text/plain" && htmlPage(head):
		return nil, errs.New(errs.Invalid, "content is an HTML page but declared as %s", want)
	case strings.HasPrefix(want, "image/") && strings.HasPrefix(got, "image/") && want != got:
		return nil, errs.New(errs.Invalid, "content is %s but declared as %s", got, want)
	}
	return br, nil
}

// typeChecked is a body whose first read applies checkContentType.
type typeChecked struct {
	r        io.Reader
	declared string
	checked  bool
}

func (t *typeChecked) Read(p []byte) (int, error) {
	if !t.checked {
		t.checked = true
		r, err := checkContentType(t.r, t.declared)
		if err != nil {
			t.r = failedReader{err}
			return 0, err
		}
		t.r = r
	}
	return t.r.Read(p)
}

type failedReader struct{ err error }

func (f failedReader) Read([]byte) (int, error) { return 0, f.err }

// htmlPage tells an HTML page from other markup that starts with a comment
// (which is all that makes the sniffer say HTML for many XML files): the
// first thing after the comments must be HTML. A comment longer than head
// cannot be told, and is not taken for HTML.
func htmlPage(head []byte) bool {
	rest := head
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if !bytes.HasPrefix(rest, []byte("<!--")) {
			break
		}
		end := bytes.Index(rest, []byte("-->"))
		if end < 0 {
			return false
		}
		rest = rest[end+len("-->"):]
	}
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(rest))
	return mt == "text/html"
}

func textual(mt string) bool {
	if strings.HasPrefix(mt, "text/") {
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript", "application/x-sh", "image/svg+xml":
		return true
	}
	return strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
}
