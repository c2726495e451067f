package search

import (
	"net/url"
	"slices"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
)

// checksumParams are Nexus's checksum parameters, each an algorithm.
var checksumParams = []string{string(blob.MD5), string(blob.SHA1), string(blob.SHA256), string(blob.SHA512)}

// ParseQuery reads a REST or UI query string: format, repository, group,
// name, version, q, prerelease, the checksums, the formats' terms, sort
// and direction.
// Every other parameter is refused (an errs.FieldError naming it) but those
// the caller reads itself (paging). Components and Assets check the
// values, after the caller's privilege: over-long terms, and a format's
// term with another format, are refused there.
func (s *Service) ParseQuery(v url.Values, paging ...string) (Query, error) {
	q := Query{Repository: v.Get("repository"), Format: v.Get("format"), Group: v.Get("group"),
		Name: v.Get("name"), Version: v.Get("version"), Keyword: v.Get("q"),
		Sort: v.Get("sort"), Direction: v.Get("direction")}
	known := map[string]bool{"repository": true, "format": true, "group": true, "name": true, "version": true,
		"q": true, "prerelease": true, "sort": true, "direction": true}
	for _, p := range paging {
		known[p] = true
	}
	for _, alg := range checksumParams {
		known[alg] = true
		if val := v.Get(alg); val != "" {
			if q.Checksums == nil {
				q.Checksums = map[string]string{}
			}
			q.Checksums[alg] = val
		}
	}
	for _, term := range s.terms() {
		known[term.Param] = true
		if val := v.Get(term.Param); val != "" {
			if q.Terms == nil {
				q.Terms = map[string]string{}
			}
			q.Terms[term.Param] = val
		}
	}
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !known[name] {
			return Query{}, &errs.FieldError{Field: name, Message: "is not a search parameter"}
		}
	}
	switch pre := strings.ToLower(v.Get("prerelease")); pre {
	case "":
	case "true", "false":
		pre := pre == "true"
		q.Prerelease = &pre
	default:
		return Query{}, &errs.FieldError{Field: "prerelease", Message: "must be true or false"}
	}
	if _, ok := sortIndex[q.Sort]; q.Sort != "" && !ok {
		return Query{}, &errs.FieldError{Field: "sort", Message: "must be one of group, name, version, repository"}
	}
	switch strings.ToLower(q.Direction) {
	case "", "asc", "desc":
		q.Direction = strings.ToLower(q.Direction)
	default:
		return Query{}, &errs.FieldError{Field: "direction", Message: "must be asc or desc"}
	}
	return q, nil
}
