// Package wildcard matches names against patterns in which "*" stands for
// any run of characters (privilege names, search terms).
package wildcard

import "strings"

// Match reports whether name matches pattern; "*" in the pattern matches
// any run of characters, including none and including '/'. It runs in
// O(len(pattern)+len(name)): search terms come from anonymous callers and
// are matched against every component a search visits.
func Match(pattern, name string) bool {
	return match(pattern, name, strings.Index)
}

// match is Match with the substring search passed in, so tests can count
// the bytes it is asked to scan.
//
// The pattern is literal segments separated by stars. The first segment
// must be a prefix of name and the last a suffix; each middle segment is
// found at its leftmost place after the previous one. Leftmost is always
// safe (a later place leaves less room for the segments after it), so no
// choice is ever revisited and each byte of name is scanned about once.
func match(pattern, name string, index func(s, substr string) int) bool {
	head, rest, found := strings.Cut(pattern, "*")
	if !found {
		return pattern == name
	}
	if !strings.HasPrefix(name, head) {
		return false
	}
	name = name[len(head):]
	middle, tail := "", rest
	if i := strings.LastIndexByte(rest, '*'); i >= 0 {
		middle, tail = rest[:i], rest[i+1:]
	}
	// The tail is matched before the middle so the two cannot overlap.
	if !strings.HasSuffix(name, tail) {
		return false
	}
	name = name[:len(name)-len(tail)]
	for middle != "" {
		var seg string
		seg, middle, _ = strings.Cut(middle, "*")
		if seg == "" {
			continue
		}
		i := index(name, seg)
		if i < 0 {
			return false
		}
		name = name[i+len(seg):]
	}
	return true
}
