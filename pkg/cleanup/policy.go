// Package cleanup is the cleanup policy engine: the policies (Nexus's
// /v1/cleanup-policies JSON, stored in pkg/meta), their validation, and the
// selection of what a policy deletes from a repository, which the preview
// lists and a run deletes through the engine's normal deletes.
package cleanup

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/wholematch"
)

// Any is the format of a policy for every format.
const Any = "*"

// Release types of criteriaReleaseType.
const (
	Releases               = "RELEASES"
	Prereleases            = "PRERELEASES"
	ReleasesAndPrereleases = "RELEASES_AND_PRERELEASES"
)

// Orders of retain's "newest".
const (
	SortByVersion = "version"
	SortByDate    = "date"
)

// Policy is a cleanup policy in the JSON of Nexus's REST API. Its criteria
// are ANDed: a component is deleted only if it meets every one set.
type Policy struct {
	Name   string `json:"name"`
	Notes  string `json:"notes"`
	Format string `json:"format"`
	// CriteriaLastBlobUpdated selects components none of whose assets
	// changed in that many days.
	CriteriaLastBlobUpdated *int `json:"criteriaLastBlobUpdated,omitempty"`
	// CriteriaLastDownloaded selects components none of whose assets was
	// downloaded in that many days (an asset never downloaded counts from
	// its creation).
	CriteriaLastDownloaded *int `json:"criteriaLastDownloaded,omitempty"`
	// CriteriaReleaseType selects releases or prereleases only (formats
	// with repo.CleanupCriteria).
	CriteriaReleaseType *string `json:"criteriaReleaseType,omitempty"`
	// CriteriaAssetRegex selects components with an asset whose whole path
	// (no leading "/") matches.
	CriteriaAssetRegex *string `json:"criteriaAssetRegex,omitempty"`
	// Retain keeps the newest Retain versions of each component (by group
	// and name) whatever the other criteria say.
	Retain *int `json:"retain,omitempty"`
	// SortBy is what "newest" means for Retain: "version" (the format's
	// version order, the default) or "date" (last updated).
	SortBy *string `json:"sortBy,omitempty"`
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9\-][A-Za-z0-9._\-]*$`)

func fieldErr(field, format string, args ...any) error {
	return &errs.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// validate checks p against the served formats and normalises it: an empty
// release type or RELEASES_AND_PRERELEASES is no criterion.
func validate(p *Policy, formats func(name string) (repo.Format, bool)) error {
	if !namePattern.MatchString(p.Name) || len(p.Name) > 255 {
		return fieldErr("name", "must contain only letters, digits, '.', '_' and '-', and not start with '.' or '_'")
	}
	if p.Format == "" {
		return fieldErr("format", "may not be empty")
	}
	var criteria repo.CleanupCriteria
	if p.Format != Any {
		f, ok := formats(p.Format)
		if !ok {
			return fieldErr("format", "unknown format %q", p.Format)
		}
		criteria, _ = f.(repo.CleanupCriteria)
	}
	for field, days := range map[string]*int{"criteriaLastBlobUpdated": p.CriteriaLastBlobUpdated,
		"criteriaLastDownloaded": p.CriteriaLastDownloaded} {
		if days != nil && *days < 1 {
			return fieldErr(field, "must be at least 1 (days)")
		}
	}
	if rt := p.CriteriaReleaseType; rt != nil {
		switch *rt {
		case "", ReleasesAndPrereleases:
			p.CriteriaReleaseType = nil
		case Releases, Prereleases:
			if criteria == nil {
				return fieldErr("criteriaReleaseType", "is not supported for format %s", p.Format)
			}
		default:
			return fieldErr("criteriaReleaseType", "must be one of RELEASES, PRERELEASES, RELEASES_AND_PRERELEASES")
		}
	}
	if re := p.CriteriaAssetRegex; re != nil {
		if *re == "" {
			p.CriteriaAssetRegex = nil
		} else if p.Format == Any {
			return fieldErr("criteriaAssetRegex", "is not supported for all formats (*): choose a format")
		} else if _, err := wholematch.Compile(*re); err != nil {
			return fieldErr("criteriaAssetRegex", "is not a valid regular expression: %s", err)
		}
	}
	if p.SortBy != nil && *p.SortBy == "" {
		p.SortBy = nil
	}
	if p.Retain != nil && *p.Retain == 0 {
		p.Retain, p.SortBy = nil, nil
	}
	if p.Retain != nil {
		if *p.Retain < 0 {
			return fieldErr("retain", "must be 0 or more")
		}
		sortBy := SortByVersion
		if p.SortBy != nil {
			sortBy = strings.ToLower(*p.SortBy)
		}
		switch {
		case sortBy != SortByVersion && sortBy != SortByDate:
			return fieldErr("sortBy", "must be version or date")
		case p.Format == Any:
			return fieldErr("retain", "is not supported for all formats (*): choose a format")
		case sortBy == SortByVersion && criteria == nil:
			return fieldErr("retain", "format %s has no version order: sort by date", p.Format)
		}
		p.SortBy = &sortBy
	} else if p.SortBy != nil {
		return fieldErr("sortBy", "needs retain")
	}
	if p.CriteriaLastBlobUpdated == nil && p.CriteriaLastDownloaded == nil && p.CriteriaReleaseType == nil &&
		p.CriteriaAssetRegex == nil && p.Retain == nil {
		return fieldErr("criteria", "at least one criterion is required")
	}
	return nil
}
