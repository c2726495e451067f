// Package wholematch compiles regular expressions that must match a whole
// string, as Nexus matches routing rules, cleanup asset regexes, CSEL's =~
// and Docker's foreign layer whitelist (Java's Matcher.matches()).
package wholematch

import "regexp"

// Compile compiles expr to match only whole strings. The error for an
// invalid expr is regexp's, about expr as given, never the wrapped form.
//
// expr is compiled alone first: "a)|(b" is invalid, yet wrapped it would
// compile and undo the anchors (`^(?:a)|(b)$` matches any "a…"). The
// non-capturing group then keeps an alternation inside the anchors, so
// "a|b" matches "a" or "b", not "ab" or "xa".
func Compile(expr string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(expr); err != nil {
		return nil, err
	}
	return regexp.Compile(`^(?:` + expr + `)$`)
}
