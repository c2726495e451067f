package maven

import (
	"slices"
	"strings"
)

// Versions are ordered as Maven 3's ComparableVersion (maven-artifact 3.8)
// orders them, checked against the real class by TestCompareVersionsMaven.
// A version is a tree of items: numbers, qualifiers and sub-lists. '.'
// separates items of one list, '-' (and a change between digits and
// letters) starts a sub-list, and trailing "null" items (0, "", "ga",
// "final", "release", empty lists) are dropped, so "1.0.0" == "1" and
// "1-ga" == "1". Only ASCII digits are digits here; Java would also count
// other Unicode decimal digits, which Maven versions never use. Maven
// before 3.8.7 read a qualifier after '.' differently (MNG-7644: there
// "2-1" < "2.0.a" < "2.0.0.a"; since, "2.0.a" == "2.0.0.a" < "2-1").

type itemKind int

const (
	numItem itemKind = iota
	strItem
	listItem
)

// item is one node of a parsed version.
type item struct {
	kind itemKind
	// numItem: Java picks int, long or BigInteger by the digit count after
	// stripping leading zeros (an all-zero run keeps its zeros); a wider
	// class always compares greater, so the class is kept along with the
	// value (digits without any leading zero, "" for zero).
	width  int
	digits string
	// strItem: the qualifier's sort key (see qualifierKey).
	key   string
	items []*item // listItem
}

// qualifiers in ascending order; "" is a release. Unknown qualifiers sort
// after all of them, among themselves alphabetically.
var qualifiers = []string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

var qualifierAliases = map[string]string{"ga": "", "final": "", "release": "", "cr": "rc"}

// releaseKey is the sort key of "" (a release).
var releaseKey = qualifierKey("")

// qualifierKey is ComparableVersion's comparableQualifier: the index of a
// known qualifier, else "7-" and the qualifier, compared as strings.
func qualifierKey(q string) string {
	if i := slices.Index(qualifiers, q); i >= 0 {
		return string(rune('0' + i))
	}
	return "7-" + q
}

func newNum(s string) *item {
	// Java strips leading zeros only if a non-zero digit follows.
	t := strings.TrimLeft(s, "0")
	w := s
	if t != "" {
		w = t
	}
	width := 0
	switch {
	case len(w) > 18:
		width = 2
	case len(w) > 9:
		width = 1
	}
	return &item{kind: numItem, width: width, digits: t}
}

func newStr(s string, followedByDigit bool) *item {
	if followedByDigit && len(s) == 1 {
		// a1 = alpha-1, b1 = beta-1, m1 = milestone-1
		switch s {
		case "a":
			s = "alpha"
		case "b":
			s = "beta"
		case "m":
			s = "milestone"
		}
	}
	if a, ok := qualifierAliases[s]; ok {
		s = a
	}
	return &item{kind: strItem, key: qualifierKey(s)}
}

func parseItem(digit bool, s string) *item {
	if digit {
		return newNum(s)
	}
	return newStr(s, false)
}

func (it *item) isNull() bool {
	switch it.kind {
	case numItem:
		return it.digits == ""
	case strItem:
		return it.key == releaseKey
	}
	return len(it.items) == 0
}

// normalize drops trailing null items, stopping at the last non-null
// number or qualifier (lists are skipped over, and dropped when empty).
func (it *item) normalize() {
	for i := len(it.items) - 1; i >= 0; i-- {
		last := it.items[i]
		if last.isNull() {
			it.items = slices.Delete(it.items, i, i+1)
		} else if last.kind != listItem {
			break
		}
	}
}

// parseVersion builds the item tree of v.
func parseVersion(v string) *item {
	v = strings.ToLower(v)
	root := &item{kind: listItem}
	list := root
	lists := []*item{root}
	sub := func() {
		n := &item{kind: listItem}
		list.items = append(list.items, n)
		list = n
		lists = append(lists, n)
	}
	add := func(x *item) { list.items = append(list.items, x) }
	digit := false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.' || c == '-':
			if i == start {
				add(newNum("0"))
			} else {
				add(parseItem(digit, v[start:i]))
			}
			start = i + 1
			if c == '-' {
				sub()
			}
		case '0' <= c && c <= '9':
			if !digit && i > start {
				// "1.0.0.X1" == "1.0.0-X1": a qualifier after '.' opens a
				// sub-list as after '-'.
				if len(list.items) > 0 {
					sub()
				}
				add(newStr(v[start:i], true))
				start = i
				sub()
			}
			digit = true
		default:
			if digit && i > start {
				add(newNum(v[start:i]))
				start = i
				sub()
			}
			digit = false
		}
	}
	if len(v) > start {
		if !digit && len(list.items) > 0 {
			sub()
		}
		add(parseItem(digit, v[start:]))
	}
	// Innermost lists first, so a list emptied by normalizing is dropped by
	// its parent.
	for i := len(lists) - 1; i >= 0; i-- {
		lists[i].normalize()
	}
	return root
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func compareNum(a, b *item) int {
	if a.width != b.width {
		return sign(a.width - b.width)
	}
	if len(a.digits) != len(b.digits) {
		return sign(len(a.digits) - len(b.digits))
	}
	return strings.Compare(a.digits, b.digits)
}

// compare orders it against o; o == nil is the missing item past the end
// of the shorter list.
func (it *item) compare(o *item) int {
	switch it.kind {
	case numItem:
		switch {
		case o == nil:
			if it.isNull() {
				return 0
			}
			return 1
		case o.kind == numItem:
			return compareNum(it, o)
		}
		return 1 // "1.1" > "1-sp", "1.1" > "1-1"
	case strItem:
		switch {
		case o == nil:
			return strings.Compare(it.key, releaseKey) // "1-rc" < "1" < "1-sp"
		case o.kind == strItem:
			return strings.Compare(it.key, o.key)
		}
		return -1 // "1.any" < "1.1", "1.any" < "1-1"
	}
	switch {
	case o == nil:
		for _, x := range it.items {
			if r := x.compare(nil); r != 0 {
				return r
			}
		}
		return 0
	case o.kind == numItem:
		return -1 // "1-1" < "1.0.x"
	case o.kind == strItem:
		return 1 // "1-1" > "1-sp"
	}
	for i := 0; i < len(it.items) || i < len(o.items); i++ {
		var r int
		switch {
		case i >= len(it.items):
			r = -o.items[i].compare(nil)
		case i >= len(o.items):
			r = it.items[i].compare(nil)
		default:
			r = it.items[i].compare(o.items[i])
		}
		if r != 0 {
			return r
		}
	}
	return 0
}

// CompareVersions orders versions as Maven does: -1 if a < b, 0 if they
// are equal to Maven ("1.0" and "1"), 1 if a > b.
func CompareVersions(a, b string) int {
	return parseVersion(a).compare(parseVersion(b))
}

// SortVersions sorts vs ascending by CompareVersions; equal versions keep
// their order.
func SortVersions(vs []string) {
	keys := make(map[string]*item, len(vs))
	for _, v := range vs {
		if keys[v] == nil {
			keys[v] = parseVersion(v)
		}
	}
	slices.SortStableFunc(vs, func(a, b string) int { return keys[a].compare(keys[b]) })
}
