package csel

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/wholematch"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tString
	tOp  // == != =~ =^
	tAnd // and, &&
	tOr  // or, ||
	tNot // not, !
	tLParen
	tRParen
)

type token struct {
	kind tokKind
	text string // identifier, operator or the literal's value
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		return fmt.Sprintf("string %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// identifier: a variable name, words joined by '.' (coordinate.groupId).
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*`)

func lex(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			k := tLParen
			if c == ')' {
				k = tRParen
			}
			toks = append(toks, token{k, string(c), i})
			i++
		case c == '"' || c == '\'':
			s, n, err := lexString(src[i:])
			if err != nil {
				return nil, fmt.Errorf("%v at offset %d", err, i)
			}
			toks = append(toks, token{tString, s, i})
			i += n
		case strings.HasPrefix(src[i:], "&&"):
			toks = append(toks, token{tAnd, "&&", i})
			i += 2
		case strings.HasPrefix(src[i:], "||"):
			toks = append(toks, token{tOr, "||", i})
			i += 2
		case i+1 < len(src) && (src[i:i+2] == "==" || src[i:i+2] == "!=" || src[i:i+2] == "=~" || src[i:i+2] == "=^"):
			toks = append(toks, token{tOp, src[i : i+2], i})
			i += 2
		case c == '!':
			toks = append(toks, token{tNot, "!", i})
			i++
		default:
			id := identifier.FindString(src[i:])
			if id == "" {
				return nil, fmt.Errorf("unexpected character %q at offset %d", src[i:i+1], i)
			}
			k := tIdent
			switch id {
			case "and":
				k = tAnd
			case "or":
				k = tOr
			case "not":
				k = tNot
			}
			toks = append(toks, token{k, id, i})
			i += len(id)
		}
	}
	return append(toks, token{tEOF, "", len(src)}), nil
}

// lexString reads a quoted literal at the start of s; a backslash escapes
// the next character (the quote, or itself). It returns the value and the
// bytes read.
func lexString(s string) (string, int, error) {
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 == len(s) {
				return "", 0, fmt.Errorf("unterminated string")
			}
			i++
			b.WriteByte(s[i])
		case quote:
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) or(depth int) (node, error) {
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOr {
		p.next()
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) and(depth int) (node, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAnd {
		p.next()
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) unary(depth int) (node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("expression nested deeper than %d", maxDepth)
	}
	switch t := p.next(); t.kind {
	case tNot:
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case tLParen:
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, fmt.Errorf("expected ) at offset %d, found %s", c.pos, c)
		}
		return x, nil
	case tIdent:
		return p.comparison(t)
	default:
		return nil, fmt.Errorf("expected a variable, not or ( at offset %d, found %s", t.pos, t)
	}
}

func (p *parser) comparison(id token) (node, error) {
	if !knownVariable(id.text) {
		return nil, fmt.Errorf("unknown variable %q at offset %d: use format, path or coordinate.<name>", id.text, id.pos)
	}
	op := p.next()
	if op.kind != tOp {
		return nil, fmt.Errorf("expected ==, !=, =~ or =^ at offset %d, found %s", op.pos, op)
	}
	lit := p.next()
	if lit.kind != tString {
		return nil, fmt.Errorf("expected a quoted string at offset %d, found %s", lit.pos, lit)
	}
	n := cmpNode{name: id.text, op: op.text, lit: lit.text}
	if op.text == "=~" {
		re, err := wholematch.Compile(lit.text)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression at offset %d: %v", lit.pos, err)
		}
		n.re = re
	}
	return n, nil
}

func knownVariable(name string) bool {
	if name == "format" || name == "path" {
		return true
	}
	rest, ok := strings.CutPrefix(name, "coordinate.")
	return ok && rest != "" && !strings.Contains(rest, ".")
}
