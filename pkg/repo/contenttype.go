package repo

import (
	"bufio"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// contentTypeByExt guesses a content type from a path's extension, with
// the generic binary type for unknown ones.
func contentTypeByExt(p string) string {
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
// binary formats apart. It returns a reader that still yields every byte.
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
	case strings.HasPrefix(want, "image/") && strings.HasPrefix(got, "image/") && want != got:
		return nil, errs.New(errs.Invalid, "content is %s but declared as %s", got, want)
	}
	return br, nil
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
