// Package wildcard matches names against patterns in which "*" stands for
// any run of characters (privilege names, search terms).
package wildcard

import "strings"

// Match reports whether name matches pattern; "*" in the pattern matches
// any run of characters, including none and including '/'.
func Match(pattern, name string) bool {
	// Greedy matching with backtracking to the most recent star: linear in
	// practice and never exponential, unlike naive recursion.
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			mark++
			p, n = star+1, mark
		default:
			return false
		}
	}
	return strings.Trim(pattern[p:], "*") == ""
}
