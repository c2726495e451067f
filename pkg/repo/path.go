package repo

import (
	"net/url"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// CleanPath turns the escaped remainder of a request path (after
// /repository/<name>/) into a repository path: unescaped, without a leading
// slash, made of non-empty segments none of which is "." or "..". dir reports
// a trailing slash (a folder). Encoded separators, backslashes, NUL and other
// control characters are refused rather than interpreted, so a path can never
// mean two things.
func CleanPath(escaped string) (path string, dir bool, err error) {
	lower := strings.ToLower(escaped)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return "", false, errs.New(errs.Invalid, "encoded path separators are not allowed")
	}
	p, err := url.PathUnescape(escaped)
	if err != nil {
		return "", false, errs.New(errs.Invalid, "malformed path escape")
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
