package npm

import (
	"encoding/json"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// SearchTerms are Nexus's npm.* search parameters: npm.scope is the
// component's group (the scope without "@"); author, description,
// keywords and license are read from the version's package.json in the
// packument when a search runs, so they follow every publish, unpublish
// and proxy refresh without a copy to keep in step; npm.tagged_is and
// npm.tagged_not take Nexus's one tag, "unstable": a version below 1.0.0.
func (f *Format) SearchTerms() []repo.SearchTerm {
	return []repo.SearchTerm{
		{Param: "npm.scope", Component: "group"},
		{Param: "npm.author", Metadata: manifestTerm(author), Text: true},
		{Param: "npm.description", Metadata: manifestTerm(func(m object) []string { return texts(m.get("description")) }), Text: true},
		{Param: "npm.keywords", Metadata: manifestTerm(func(m object) []string { return texts(m.get("keywords")) }), Text: true},
		{Param: "npm.license", Metadata: manifestTerm(license), Text: true},
		{Param: "npm.tagged_is", Metadata: tagged},
		{Param: "npm.tagged_not", Metadata: tagged, Negate: true},
	}
}

// tagUnstable is the tag Nexus gives versions below 1.0.0 (prereleases of
// 1.0.0 included, and versions that are not semver).
const tagUnstable = "unstable"

// tagged is the lookup of a version's tags, from the version alone: it
// reads nothing.
func tagged(func(string) ([]byte, error)) func(*meta.Component) ([]string, error) {
	return func(c *meta.Component) ([]string, error) {
		if _, ok := parseVersion(c.Version); !ok || compareVersions(c.Version, "1.0.0") < 0 {
			return []string{tagUnstable}, nil
		}
		return nil, nil
	}
}

// lookup is a repo.SearchTerm's Metadata.
type lookup = func(stored func(path string) ([]byte, error)) func(c *meta.Component) ([]string, error)

// packumentTerm is a term whose values for a version values derives from
// the packument. It keeps the last package it read: a search visits a
// package's versions one after another, in most orders.
func packumentTerm(values func(top object) func(version string) []string) lookup {
	return func(stored func(string) ([]byte, error)) func(*meta.Component) ([]string, error) {
		lastName := ""
		var last func(string) []string
		return func(c *meta.Component) ([]string, error) {
			name := packageOf(c)
			if last == nil || name != lastName {
				doc, err := stored(name)
				if err != nil {
					return nil, err
				}
				top, _ := parseObject(doc) // none, or malformed: no values
				lastName, last = name, values(top)
			}
			return last(c.Version), nil
		}
	}
}

// manifestTerm is a term on the manifest of the version (its package.json
// as published).
func manifestTerm(field func(manifest object) []string) lookup {
	return packumentTerm(func(top object) func(string) []string {
		versions := map[string]json.RawMessage{}
		for _, m := range objectOf(top.get("versions")) {
			versions[m.Key] = m.Val
		}
		return func(version string) []string { return field(objectOf(versions[version])) }
	})
}

// texts are the strings of a string or an array of strings.
func texts(raw json.RawMessage) []string {
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	if s := stringOf(raw); s != "" {
		return []string{s}
	}
	return nil
}

// author is "Name <email> (url)", or the name and email of an object.
func author(m object) []string {
	raw := m.get("author")
	if a := objectOf(raw); a != nil {
		return append(texts(a.get("name")), texts(a.get("email"))...)
	}
	return texts(raw)
}

// license is an SPDX expression, or the type of the objects older
// packages have ({"type": "MIT"}, and "licenses": [{...}]).
func license(m object) []string {
	if l := objectOf(m.get("license")); l != nil {
		return texts(l.get("type"))
	}
	if out := texts(m.get("license")); out != nil {
		return out
	}
	var legacy []struct {
		Type string `json:"type"`
	}
	json.Unmarshal(m.get("licenses"), &legacy) // absent or malformed: none
	var out []string
	for _, l := range legacy {
		out = append(out, l.Type)
	}
	return out
}
