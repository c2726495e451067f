package repo

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// MaxPathLength is the longest request path, in bytes once unescaped, that
// any route accepts: what is stored, indexed and matched by searches is the
// unescaped path, and how a client escapes it should not decide whether it
// fits. 4096 is Linux's PATH_MAX: no tool that mirrors a repository to disk
// can write a longer path anyway, while real paths (Maven coordinates,
// image names of up to 255 bytes) stay far below it.
const MaxPathLength = 4096

// CheckPathText refuses an unescaped request path that no repository can
// hold whatever its format: one longer than MaxPathLength (errs.TooLong) or
// not valid UTF-8 (errs.Invalid), which clients, the REST API's JSON and
// the browse pages could not show as it was sent.
func CheckPathText(p string) error {
	if len(p) > MaxPathLength {
		return errs.New(errs.TooLong, "the path is longer than %d bytes", MaxPathLength)
	}
	if !utf8.ValidString(p) {
		return errs.New(errs.Invalid, "the path is not valid UTF-8")
	}
	return nil
}

// PathDecoder is implemented by formats whose clients escape a separator
// inside one segment of a path that means one name (npm's
// "@scope%2fname"). DecodePath returns the escaped request path with those
// separators unescaped; every check of CleanPath then applies to the
// result, so the format decides what is a separator, never what is safe.
type PathDecoder interface {
	DecodePath(escaped string) string
}

// CleanPath turns the escaped remainder of a request path (after
// /repository/<name>/) into a path of a repository of format f (nil for
// none): unescaped, without a leading slash, made of non-empty segments
// none of which is "." or "..". dir reports a trailing slash (a folder).
// Encoded separators (but those f's PathDecoder decodes), backslashes, NUL
// and other control characters are refused rather than interpreted, so a
// path can never mean two things; so is what CheckPathText refuses.
func CleanPath(f Format, escaped string) (path string, dir bool, err error) {
	if d, ok := f.(PathDecoder); ok {
		escaped = d.DecodePath(escaped)
	}
	lower := strings.ToLower(escaped)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return "", false, errs.New(errs.Invalid, "encoded path separators are not allowed")
	}
	p, err := url.PathUnescape(escaped)
	if err != nil {
		return "", false, errs.New(errs.Invalid, "malformed path escape")
	}
	if err := CheckPathText(p); err != nil {
		return "", false, err
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "", false, errs.New(errs.Invalid, "path contains a forbidden character")
		}
	}
	p = strings.TrimPrefix(p, "/")
	dir = p == "" || strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return "", true, nil
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return "", false, errs.New(errs.Invalid, "empty path segment")
		case ".", "..":
			return "", false, errs.New(errs.Invalid, "relative path segments are not allowed")
		}
	}
	return p, dir, nil
}

// EscapePath escapes each segment of a repository path for use in a URL.
func EscapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
