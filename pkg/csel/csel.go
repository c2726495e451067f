// Package csel parses and evaluates Nexus's content selector expressions
// (CSEL): comparisons of the variables format, path and coordinate.<name>
// with string literals, joined by and, or, not and parentheses:
//
//	format == "maven2" and path =^ "/org/example/"
//
// Operators: == and != (equality), =~ (the whole value matches a regular
// expression, as Java's String.matches), =^ (starts with).
package csel

import (
	"fmt"
	"regexp"
	"strings"
)

// Limits on an expression, so that a stored selector stays cheap to
// evaluate on every request and parsing cannot exhaust the stack.
const (
	MaxLength = 4096
	maxDepth  = 64
)

// Vars gives the values of an asset's variables: "format", "path" (with its
// leading "/") and "coordinate.<name>"; ok is false for one not known.
type Vars func(name string) (value string, ok bool)

// Expr is a parsed expression, safe for concurrent use.
type Expr struct {
	src  string
	root node
}

// String is the expression as it was written.
func (e *Expr) String() string { return e.src }

// Match reports whether an asset with vars is selected. A comparison of a
// variable that is not known is false (so its negation is true), as in
// Nexus.
func (e *Expr) Match(vars Vars) bool { return e.root.eval(vars) == yes }

// MayMatchUnder reports whether some asset of format whose path starts
// with prefix (a folder such as "/org/", or "/" for all) could be
// selected, answering true when it cannot tell (regular expressions,
// coordinates): folder listings show the folders that may lead to
// selected content.
func (e *Expr) MayMatchUnder(format, prefix string) bool {
	return e.root.eval(prefixVars{format: format, prefix: prefix}.lookup) != no
}

// Parse parses src, or returns an error saying what is wrong and where.
func Parse(src string) (*Expr, error) {
	if len(src) > MaxLength {
		return nil, fmt.Errorf("expression longer than %d bytes", MaxLength)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, fmt.Errorf("unexpected %s at offset %d", t, t.pos)
	}
	return &Expr{src: src, root: root}, nil
}

// truth is three-valued: MayMatchUnder evaluates with unknown values.
type truth uint8

const (
	no truth = iota
	yes
	maybe
)

func not(t truth) truth {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return maybe
}

type node interface{ eval(Vars) truth }

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ x node }

func (n andNode) eval(v Vars) truth {
	l := n.l.eval(v)
	if l == no {
		return no
	}
	r := n.r.eval(v)
	switch {
	case r == no:
		return no
	case l == yes && r == yes:
		return yes
	}
	return maybe
}

func (n orNode) eval(v Vars) truth {
	l := n.l.eval(v)
	if l == yes {
		return yes
	}
	r := n.r.eval(v)
	switch {
	case r == yes:
		return yes
	case l == no && r == no:
		return no
	}
	return maybe
}

func (n notNode) eval(v Vars) truth { return not(n.x.eval(v)) }

// cmpNode compares a variable with a literal.
type cmpNode struct {
	name, op, lit string
	re            *regexp.Regexp // =~, anchored at both ends
}

// unknownValue is what prefixVars answers for values it cannot know.
const unknownValue = "\x00unknown"

func (n cmpNode) eval(v Vars) truth {
	val, ok := v(n.name)
	if !ok {
		return no
	}
	if val == unknownValue {
		return maybe
	}
	if rest, isPrefix := strings.CutPrefix(val, prefixMark); isPrefix {
		return n.underPrefix(rest)
	}
	var r bool
	switch n.op {
	case "==":
		r = val == n.lit
	case "!=":
		r = val != n.lit
	case "=^":
		r = strings.HasPrefix(val, n.lit)
	case "=~":
		r = n.re.MatchString(val)
	}
	if r {
		return yes
	}
	return no
}

// prefixMark marks a path known only by its prefix (MayMatchUnder).
const prefixMark = "\x00prefix:"

// underPrefix answers the comparison for every path starting with prefix.
func (n cmpNode) underPrefix(prefix string) truth {
	switch n.op {
	case "==":
		if strings.HasPrefix(n.lit, prefix) {
			return maybe
		}
		return no
	case "=^":
		switch {
		case strings.HasPrefix(prefix, n.lit):
			return yes
		case strings.HasPrefix(n.lit, prefix):
			return maybe
		}
		return no
	case "=~":
		// Every match starts with the literal prefix of the anchored
		// expression ("/v2/team/" of "/v2/team/.*").
		lit, _ := n.re.LiteralPrefix()
		if !strings.HasPrefix(prefix, lit) && !strings.HasPrefix(lit, prefix) {
			return no
		}
	}
	return maybe
}

type prefixVars struct{ format, prefix string }

func (p prefixVars) lookup(name string) (string, bool) {
	switch {
	case name == "format":
		return p.format, true
	case name == "path":
		return prefixMark + p.prefix, true
	}
	return unknownValue, true
}
